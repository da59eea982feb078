"""Kafka: records are immutable, so the subject's keys are destroyed (crypto-shredding); every record
sealed with them reads back without its personal fields. Completes only after every process's key cache
has expired (``SUBJECT_KEY_CACHE_SECONDS``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.shredding import destroy_subject_keys, identity_ref

from switchboard_privacy.stores.subject import Subject


def subject_refs(subject: Subject) -> list[str]:
    refs = [f"contact:{c}" for c in subject.contact_ids]
    refs += [f"conversation:{c}" for c in subject.conversation_ids]
    refs += [identity_ref(subject.account_id, channel, ext) for channel, ext in subject.identities]
    return refs


async def erase(session: AsyncSession, subject: Subject) -> dict[str, int]:
    return {"keys_destroyed": await destroy_subject_keys(session, subject_refs(subject))}
