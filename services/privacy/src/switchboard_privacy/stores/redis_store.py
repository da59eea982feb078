"""Redis, from the key registry (``switchboard_common.infra.cache.KEY_KINDS``), never a keyspace scan.

Every key kind says whose data it holds. Erasure derives, from the subject's contacts, conversations, messages
and channel identities (read from PostgreSQL before that step erases them), the name of every key that can
hold the subject's data and deletes them (streams, relays, dedupe markers, Messenger windows and thread
owners keyed by the PSID's pseudonym, ...). In the keys shared by many people -- agents' streams, the
account's queue positions -- only the entries that mention the subject go. The account purge does the same
for everything the account's entities can name."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import get_args

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts.models import User
from switchboard_common.domain.contacts.pseudonyms import messenger_psid
from switchboard_common.domain.conversations.models import Conversation, Message
from switchboard_common.domain.events import Channel
from switchboard_common.infra.cache import Keys, TextRedis
from switchboard_common.infra.pseudonyms import Pseudonyms

from switchboard_privacy.stores.subject import Subject

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CHANNELS: tuple[str, ...] = get_args(Channel)
TYPING_SENDERS = ("visitor", "agent")
# What a person's data can be keyed by.
SUBJECT_OWNERS = {"contact", "conversation", "message", "identity"}
BATCH = 500


class _Matcher:
    def __init__(self, subject: Subject) -> None:
        self.uuids = subject.uuid_needles()
        self.strings = subject.string_needles()

    def __call__(self, value: str | None) -> bool:
        if not value:
            return False
        if self.uuids and not self.uuids.isdisjoint(UUID_RE.findall(value)):
            return True
        return any(needle in value for needle in self.strings)


class _ConversationFrames:
    """Stream entries of the subject's conversations: frames whose ``conversation_id`` is one of them."""

    def __init__(self, subject: Subject) -> None:
        self.ids = {str(c) for c in subject.conversation_ids}

    def __call__(self, value: str | None) -> bool:
        if not value or not value.startswith("{"):
            return False
        try:
            frame = json.loads(value)
        except ValueError:
            return False
        return isinstance(frame, dict) and str(frame.get("conversation_id")) in self.ids


def psid_pseudonyms(pseudonyms: Pseudonyms, identities: Iterable[tuple[str, str]]) -> list[str]:
    """Messenger identities are ``{page}:{psid}``; Redis keys carry the PSID's pseudonym."""
    return [
        messenger_psid(pseudonyms, ext.split(":", 1)[1]) for ch, ext in identities if ch == "messenger" and ":" in ext
    ]


async def _message_ids(session: AsyncSession, conversation_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    if not conversation_ids:
        return []
    return list(await session.scalars(select(Message.id).where(Message.conversation_id.in_(conversation_ids))))


async def subject_values(session: AsyncSession, pseudonyms: Pseudonyms, subject: Subject) -> dict[str, list[object]]:
    """Field -> values for every key name that can hold the subject's data."""
    inboxes: list[object] = []
    if subject.conversation_ids:
        inboxes = list(
            await session.scalars(
                select(Conversation.inbox_id).where(Conversation.id.in_(subject.conversation_ids)).distinct()
            )
        )
    return {
        "contact": list(subject.contact_ids),
        "conversation": list(subject.conversation_ids),
        "message": list(await _message_ids(session, subject.conversation_ids)),
        "inbox": inboxes,
        "psid": list(psid_pseudonyms(pseudonyms, subject.identities)),
        "sender": list(TYPING_SENDERS),
        "channel": list(CHANNELS),
    }


async def delete_keys(redis: TextRedis, names: Sequence[str]) -> int:
    deleted = 0
    for start in range(0, len(names), BATCH):
        deleted += int(await redis.delete(*names[start : start + BATCH]))
    return deleted


async def _agents(session: AsyncSession, account_id: uuid.UUID) -> list[uuid.UUID]:
    return list(await session.scalars(select(User.id).where(User.account_id == account_id)))


@dataclass
class RedisFindings:
    """What to delete for a subject, read from PostgreSQL before its rows go (retention deletes them in the
    same transaction that reads them)."""

    subject: Subject
    values: dict[str, list[object]]
    agents: list[uuid.UUID]
    # Contacts who stay while some of their conversations go (retention): their streams are shared with what
    # stays, so only the entries about the conversations going are removed.
    contacts_kept: list[uuid.UUID] = field(default_factory=list)
    # Retention of conversations: only frames *of* them go (a later conversation's frame names its predecessor
    # in ``previous_conversation_id`` and stays); erasure removes every frame that mentions the subject.
    frames_of_conversations_only: bool = False


async def find(session: AsyncSession, pseudonyms: Pseudonyms, subject: Subject) -> RedisFindings:
    values = await subject_values(session, pseudonyms, subject)
    return RedisFindings(subject, values, await _agents(session, subject.account_id))


async def erase(
    session: AsyncSession, redis: TextRedis, keys: Keys, pseudonyms: Pseudonyms, subject: Subject
) -> dict[str, int]:
    found = await find(session, pseudonyms, subject)
    await session.rollback()  # the reads end here; Redis work holds no transaction
    return await erase_found(redis, keys, found)


async def erase_found(redis: TextRedis, keys: Keys, found: RedisFindings) -> dict[str, int]:
    """Every key the registry derives from the subject, and their entries in keys shared with others (what
    erasure removes, and retention for the contacts and conversations it expires)."""
    subject, values, agents = found.subject, found.values, found.agents
    counts = {"keys": await delete_keys(redis, keys.names_for(SUBJECT_OWNERS, values)), "entries": 0}
    hits = _ConversationFrames(subject) if found.frames_of_conversations_only else _Matcher(subject)
    # Shared keys: the subject's entries in the account's agents' streams (and kept contacts' streams).
    shared = [keys.agent_stream(a) for a in agents] + [keys.contact_stream(c) for c in found.contacts_kept]
    for stream in shared:
        ids = [
            entry_id
            for entry_id, entry in await redis.xrange(stream)
            if any(hits(k) or hits(v) for k, v in entry.items())
        ]
        if ids:
            counts["entries"] += int(await redis.xdel(stream, *ids))
    return counts


async def account_values(
    session: AsyncSession, pseudonyms: Pseudonyms, account_id: uuid.UUID
) -> dict[str, list[object]]:
    """Field -> values for every key name the account's entities can have (messages are added in batches)."""

    async def ids(sql: str) -> list[object]:
        return list(await session.scalars(text(sql), {"a": account_id}))

    identities = (
        await session.execute(
            text("SELECT channel, external_id FROM contact_identities WHERE account_id = :a"), {"a": account_id}
        )
    ).all()
    requests = await ids("SELECT id FROM privacy_requests WHERE account_id = :a")
    return {
        "account": [account_id],
        "agent": await ids("SELECT id FROM users WHERE account_id = :a"),
        "inbox": await ids("SELECT id FROM inboxes WHERE account_id = :a"),
        "contact": await ids("SELECT id FROM contacts WHERE account_id = :a"),
        "conversation": await ids("SELECT id FROM conversations WHERE account_id = :a"),
        "request": requests,
        "psid": list(psid_pseudonyms(pseudonyms, [(row[0], row[1]) for row in identities])),
        "sender": list(TYPING_SENDERS),
        "channel": list(CHANNELS),
    }


async def purge_account(
    session: AsyncSession, redis: TextRedis, keys: Keys, values: Mapping[str, list[object]], account_id: uuid.UUID
) -> int:
    """Every key the account's entities name, its agents' presence timers, and its message markers."""
    owners = {"account", "agent", "inbox", "contact", "conversation", "identity", "request"}
    names = keys.names_for(owners, values, shared=True)
    # The link tokens of pending confirmations are named by their hash, kept in the request's challenge.
    for request_id in values.get("request", []):
        token = await redis.hget(keys.privacy_confirmation(uuid.UUID(str(request_id))), "token_hash")
        if token:
            names.append(keys.privacy_confirmation_token(str(token)))
    deleted = await delete_keys(redis, names)
    agents = [f"{account_id}:{agent}" for agent in values.get("agent", [])]
    if agents:
        deleted += int(await redis.zrem(keys.presence_grace(), *agents))
    last: uuid.UUID | None = None
    while True:  # message-keyed markers, a batch of the account's messages at a time
        query = select(Message.id).where(Message.account_id == account_id).order_by(Message.id).limit(BATCH)
        batch = list(await session.scalars(query.where(Message.id > last) if last else query))
        if not batch:
            return deleted
        deleted += await delete_keys(redis, keys.names_for({"message"}, {"message": batch, "channel": CHANNELS}))
        last = batch[-1]
