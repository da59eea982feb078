"""Crypto-shredding at the bus level: personal fields are sealed on publish, opened for consumers, and read
back as erased once the subject's key is destroyed (real PostgreSQL, no mocks)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from switchboard_common.domain.accounts.tenancy import cross_tenant
from switchboard_common.domain.encryption.shredding import ERASED, SubjectKeys, destroy_subject_keys, personal_fields
from switchboard_common.domain.events import (
    Attachment,
    ConversationAssigned,
    ConversationAssignedPayload,
    MessageCreated,
    MessageCreatedPayload,
    parse_event,
    serialize_event,
    utcnow,
)
from switchboard_common.infra.crypto import Keyring
from switchboard_common.infra.db import create_sessionmaker
from switchboard_common.infra.pseudonyms import Pseudonyms
from switchboard_devstack.servers import StackUrls

PSEUDONYMS = Pseudonyms(b"shredding test pseudonym key 32b")


@pytest.fixture(scope="module")
async def engine(stack_urls: StackUrls) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(stack_urls.database_url)
    yield engine
    await engine.dispose()


async def new_account(engine: AsyncEngine) -> uuid.UUID:
    account_id = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO accounts (id, name, status, default_max_conversations, settings, created_at) "
                "VALUES (:id, 'shred', 'active', 5, '{}', now())"
            ),
            {"id": account_id},
        )
    return account_id


def message(account_id: uuid.UUID, contact_id: uuid.UUID, body: str) -> MessageCreated:
    return MessageCreated(
        tenant_id=account_id,
        conversation_id=uuid.uuid4(),
        payload=MessageCreatedPayload(
            message_id=uuid.uuid4(),
            inbox_id=uuid.uuid4(),
            contact_id=contact_id,
            channel="web",
            direction="inbound",
            sender_type="contact",
            text=body,
            attachments=[Attachment(name=f"{body}.pdf", url="https://files.example/x")],
            created_at=utcnow(),
        ),
    )


def test_personal_fields_are_listed() -> None:
    fields = personal_fields()
    assert fields["message.created"] == ["payload.text", "payload.attachments[].name", "payload.attachments[].url"]
    assert "payload.external_contact_id" in fields["inbound.message_received"]


async def test_sealed_then_opened_then_shredded(engine: AsyncEngine) -> None:
    account_id = await new_account(engine)
    keyring = Keyring([("k1", b"k" * 32)])
    keys = SubjectKeys(create_sessionmaker(engine), keyring, pseudonyms=PSEUDONYMS, cache_seconds=0)
    contact, other = uuid.uuid4(), uuid.uuid4()
    event = message(account_id, contact, "my secret words")
    kept = message(account_id, other, "other words")

    sealed = await keys.seal(event)
    assert b"my secret words" not in sealed and b"sbx1:" in sealed
    assert parse_event(await keys.open(sealed)) == event
    # A record without personal values needs no key (the hot path skips the lookup).
    plain = message(account_id, contact, "x").model_copy(
        update={"payload": event.payload.model_copy(update={"text": None, "attachments": []})}
    )
    assert await keys.seal(plain) == serialize_event(plain)

    sealed_kept = await keys.seal(kept)
    async with create_sessionmaker(engine)() as session, session.begin():
        # A conversation's texts go with the conversation's key (retention of closed conversations, erasure).
        assert await destroy_subject_keys(session, [f"conversation:{event.conversation_id}"]) == 1
    keys.forget([f"conversation:{event.conversation_id}"])
    erased = parse_event(await keys.open(sealed))
    assert erased.payload.text is None  # type: ignore[attr-defined]
    assert erased.payload.attachments[0].name == ERASED  # type: ignore[attr-defined]
    assert erased.payload.attachments[0].url is None  # type: ignore[attr-defined]
    assert parse_event(await keys.open(sealed_kept)) == kept
    # Another process (fresh cache) cannot open it either.
    fresh = SubjectKeys(create_sessionmaker(engine), keyring, pseudonyms=PSEUDONYMS, cache_seconds=0)
    assert parse_event(await fresh.open(sealed)).payload.text is None  # type: ignore[attr-defined]


async def test_an_event_type_without_personal_fields_is_written_in_one_go(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Routing decisions, the busiest events, carry nothing personal: sealed as the outbox stores them, without
    building the event as a dict first (their explanation of every candidate was walked twice per publish)."""
    keys = SubjectKeys(create_sessionmaker(engine), Keyring([("k1", b"k" * 32)]), pseudonyms=PSEUDONYMS)
    account_id = await new_account(engine)
    decision = ConversationAssigned(
        tenant_id=account_id,
        conversation_id=uuid.uuid4(),
        payload=ConversationAssignedPayload(
            agent_id=uuid.uuid4(),
            inbox_id=uuid.uuid4(),
            strategy="least_busy",
            reason="routed",
            explanation={"candidates": [{"agent_id": str(uuid.uuid4()), "load": n} for n in range(20)]},
        ),
    )

    def built_as_a_dict(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("sealed through model_dump")

    monkeypatch.setattr(ConversationAssigned, "model_dump", built_as_a_dict)
    sealed = await keys.seal(decision)
    assert sealed == serialize_event(decision)
    assert parse_event(await keys.open(sealed)) == decision
    monkeypatch.undo()
    # A personal value, even in a payload built without validation, is still sealed.
    written = message(account_id, uuid.uuid4(), "my secret words")
    unvalidated = MessageCreated.model_construct(
        **{**dict(written), "payload": MessageCreatedPayload.model_construct(**dict(written.payload))}
    )
    assert b"my secret words" not in await keys.seal(unvalidated)
    noted = decision.model_copy(update={"payload": decision.payload.model_copy(update={"note": "call me back"})})
    assert b"call me back" not in await keys.seal(noted)


async def test_readers_missing_at_once_share_one_key_lookup(engine: AsyncEngine) -> None:
    account_id = await new_account(engine)
    keyring = Keyring([("k1", b"k" * 32)])
    sealed = await SubjectKeys(create_sessionmaker(engine), keyring, pseudonyms=PSEUDONYMS).seal(
        message(account_id, uuid.uuid4(), "hi")
    )
    lookups: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM subject_keys" in statement:
            lookups.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        # A process's consumer groups opening the same record at once, on a cold cache.
        reader = SubjectKeys(create_sessionmaker(engine), keyring, pseudonyms=PSEUDONYMS)
        opened = await asyncio.gather(*(reader.open(sealed) for _ in range(5)))
        assert len(lookups) == 1
        assert {parse_event(raw).payload.text for raw in opened} == {"hi"}  # type: ignore[attr-defined]
        await reader.open(sealed)  # cached now
        assert len(lookups) == 1
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def test_publishers_missing_at_once_share_one_key_lookup(engine: AsyncEngine) -> None:
    """A new visitor's first messages published side by side (the widget POST under a burst): one lookup and one
    key created for the subject, not a query and a transaction per message (issue 17)."""
    account_id = await new_account(engine)
    keyring = Keyring([("k1", b"k" * 32)])
    contact_id = uuid.uuid4()
    lookups: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "subject_keys" in statement:
            lookups.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        publisher = SubjectKeys(create_sessionmaker(engine), keyring, pseudonyms=PSEUDONYMS)
        await publisher.seal(message(account_id, uuid.uuid4(), "alone"))  # what one new subject's keys cost
        alone = len(lookups)
        lookups.clear()
        conversation_id = uuid.uuid4()  # one visitor's messages: one conversation, one contact
        burst = [message(account_id, contact_id, f"m{i}").model_copy(update={"conversation_id": conversation_id})
                 for i in range(5)]  # fmt: skip
        sealed = await asyncio.gather(*(publisher.seal(event) for event in burst))
        first = len(lookups)
        assert first == alone, lookups
        await publisher.seal(burst[0])  # cached now
        assert len(lookups) == first
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    reader = SubjectKeys(create_sessionmaker(engine), keyring, pseudonyms=PSEUDONYMS)
    opened = [parse_event(await reader.open(raw)).payload.text for raw in sealed]  # type: ignore[attr-defined]
    assert opened == [f"m{i}" for i in range(5)]


async def test_audit_log_is_append_only(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO privacy_audit_log (actor, action, details, created_at) "
                "VALUES ('system:test', 'test.append', '{}', now())"
            )
        )
    for statement in ("UPDATE privacy_audit_log SET action = 'x'", "DELETE FROM privacy_audit_log"):
        with pytest.raises(Exception, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(cross_tenant(text(statement)))  # every account's rows: refused by the trigger
