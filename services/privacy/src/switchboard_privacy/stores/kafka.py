"""Kafka: records are immutable, so the subject's keys are destroyed (crypto-shredding); every record
sealed with them reads back without its personal fields. Completes only after every process's key cache
has expired (``SUBJECT_KEY_CACHE_SECONDS``).

Rectification rotates only the *profile* keys (contact name, e-mail, phone:
``switchboard_common.domain.encryption.shredding``):
old copies of those fields become unreadable, the same records' message texts stay readable, and a
``contact.updated`` event carries the corrected fields, sealed with a fresh key, to the consumers that keep
copies."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.encryption.shredding import (
    destroy_subject_keys,
    fence_subject_keys,
    identity_refs,
    person_refs,
    profile_ref,
)
from switchboard_common.domain.events import ContactUpdated, ContactUpdatedPayload
from switchboard_common.infra.pseudonyms import Pseudonyms

from switchboard_privacy.stores.subject import Subject

RECTIFIABLE = ("name", "email", "phone")


def subject_refs(pseudonyms: Pseudonyms, subject: Subject) -> list[str]:
    return person_refs(
        pseudonyms,
        subject.account_id,
        contact_ids=subject.contact_ids,
        conversation_ids=subject.conversation_ids,
        identities=subject.identities,
    )


def profile_refs(pseudonyms: Pseudonyms, subject: Subject) -> list[str]:
    """The keys sealing copies of the contact's own fields: per contact and per channel identity."""
    refs = [f"contact:{c}" for c in subject.contact_ids]
    refs += [r for ch, ext in subject.identities for r in identity_refs(pseudonyms, subject.account_id, ch, ext)]
    return [profile_ref(r) for r in refs]


async def erase(session: AsyncSession, pseudonyms: Pseudonyms, subject: Subject) -> dict[str, int]:
    """Destroys the subject's keys and fences their refs until the request's final step (no key can be created
    for the subject meanwhile: what is published for them in between reads as erased)."""
    refs = subject_refs(pseudonyms, subject)
    return {"keys_destroyed": await fence_subject_keys(session, subject.account_id, refs)}


async def rotate_profile_keys(session: AsyncSession, pseudonyms: Pseudonyms, subject: Subject) -> dict[str, int]:
    return {"profile_keys_destroyed": await destroy_subject_keys(session, profile_refs(pseudonyms, subject))}


def contact_updated_events(request_id: uuid.UUID, subject: Subject, changes: dict[str, Any]) -> list[ContactUpdated]:
    """One event per contact, with a deterministic id: a retried step publishes the same event again."""
    corrected = {k: v for k, v in changes.items() if k in RECTIFIABLE and v is not None}
    if not corrected:
        return []
    return [
        ContactUpdated(
            event_id=uuid.uuid5(request_id, f"contact.updated:{contact_id}"),
            tenant_id=subject.account_id,
            payload=ContactUpdatedPayload(contact_id=contact_id, fields=sorted(corrected), **corrected),
        )
        for contact_id in subject.contact_ids
    ]
