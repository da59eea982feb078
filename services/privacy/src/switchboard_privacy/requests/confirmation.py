"""Subject self-confirmation: a request moves received -> verified because the person confirms it through the
channel they wrote from.

``send_prompt`` posts a system message into the subject's most recent conversation on a channel we can reach
(web widget, API channel, Messenger, Slack) as an ordinary outbound ``message.created`` event, the path agents'
replies take: the gateway stores it, the connectors deliver it. It carries a 6-digit code and, when
``PRIVACY_PUBLIC_URL`` is set, a link. The subject confirms by replying with the code in that conversation
(:class:`ConfirmationListener` reads inbound messages) or by opening the link and pressing Confirm.

Codes and link tokens are stored only as HMAC-SHA256 hashes in Redis, expire after
``PRIVACY_CONFIRMATION_TTL_SECONDS``, work once (the request leaves ``received`` in the same transaction that
consumes them), and a challenge is withdrawn after ``PRIVACY_CONFIRMATION_MAX_ATTEMPTS`` wrong codes. A
confirmation verifies the request for the confirming contact only: it proves control of that channel
identity, nothing more. Every step is audited with the channel name and counts, never the code or the person.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from aiokafka import ConsumerRecord
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified
from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.events import Event, MessageCreated, MessageCreatedPayload
from switchboard_common.domain.privacy.models import PrivacyRequest
from switchboard_common.infra.bus import CONVERSATIONS_TOPIC, EventConsumer, EventFilter
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.regions import tag
from switchboard_common.infra.runtime import Resources

from switchboard_privacy.audit import log as audit
from switchboard_privacy.settings import PrivacySettings
from switchboard_privacy.stores.subject import find_contacts

log = structlog.get_logger(__name__)

REACHABLE_CHANNELS = ("web", "api", "messenger", "slack")
# Six digits, optionally written "123 456" or "123-456"; not part of a longer number.
CODE_RE = re.compile(r"(?<!\d)(\d{3})[ -]?(\d{3})(?!\d)")
WHAT = {"erasure": "erase", "access": "send a copy of", "rectification": "correct"}


@dataclass(frozen=True)
class Challenge:
    request_id: uuid.UUID
    account_id: uuid.UUID
    contact_id: uuid.UUID
    conversation_id: uuid.UUID
    code_hash: str
    attempts: int


def _digest(settings: PrivacySettings, purpose: str, request_id: uuid.UUID | str, value: str) -> str:
    message = f"privacy-confirmation:{purpose}:{request_id}:{value}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def _token_digest(settings: PrivacySettings, token: str) -> str:
    return hmac.new(settings.secret_key.encode(), f"privacy-link:{token}".encode(), hashlib.sha256).hexdigest()


class ChallengeStore:
    """Redis: the challenge (hashes, ids, attempts) under the request, and lookups by conversation and token."""

    def __init__(self, resources: Resources) -> None:
        self.redis = resources.redis
        self.keys = resources.keys

    def _challenge(self, request_id: uuid.UUID | str) -> str:
        return self.keys.privacy_confirmation(uuid.UUID(str(request_id)))

    def _by_conversation(self, conversation_id: uuid.UUID | str) -> str:
        return self.keys.privacy_confirmation_of(uuid.UUID(str(conversation_id)))

    def _by_token(self, token_hash: str) -> str:
        return self.keys.privacy_confirmation_token(token_hash)

    async def save(self, challenge: Challenge, token_hash: str, ttl: int) -> None:
        old = await self.redis.hget(self._challenge(challenge.request_id), "token_hash")
        async with self.redis.pipeline(transaction=True) as pipe:
            if old:
                pipe.delete(self._by_token(old))  # a new prompt replaces the previous one
            pipe.delete(self._challenge(challenge.request_id))
            pipe.hset(
                self._challenge(challenge.request_id),
                mapping={
                    "account_id": str(challenge.account_id),
                    "contact_id": str(challenge.contact_id),
                    "conversation_id": str(challenge.conversation_id),
                    "code_hash": challenge.code_hash,
                    "token_hash": token_hash,
                    "attempts": 0,
                },
            )
            pipe.expire(self._challenge(challenge.request_id), ttl)
            pipe.set(self._by_conversation(challenge.conversation_id), str(challenge.request_id), ex=ttl)
            pipe.set(self._by_token(token_hash), str(challenge.request_id), ex=ttl)
            await pipe.execute()

    async def load(self, request_id: uuid.UUID | str) -> Challenge | None:
        data = await self.redis.hgetall(self._challenge(request_id))
        if not data:
            return None
        return Challenge(
            request_id=uuid.UUID(str(request_id)),
            account_id=uuid.UUID(data["account_id"]),
            contact_id=uuid.UUID(data["contact_id"]),
            conversation_id=uuid.UUID(data["conversation_id"]),
            code_hash=data["code_hash"],
            attempts=int(data["attempts"]),
        )

    async def for_conversation(self, conversation_id: uuid.UUID) -> Challenge | None:
        request_id = await self.redis.get(self._by_conversation(conversation_id))
        return await self.load(request_id) if request_id else None

    async def for_token(self, token_hash: str) -> Challenge | None:
        request_id = await self.redis.get(self._by_token(token_hash))
        return await self.load(request_id) if request_id else None

    async def failed_attempt(self, request_id: uuid.UUID) -> int:
        return int(await self.redis.hincrby(self._challenge(request_id), "attempts", 1))

    async def withdraw(self, challenge: Challenge) -> None:
        """Single use: gone once consumed, locked or superseded."""
        token_hash = await self.redis.hget(self._challenge(challenge.request_id), "token_hash")
        keys = [self._challenge(challenge.request_id)]
        if await self.redis.get(self._by_conversation(challenge.conversation_id)) == str(challenge.request_id):
            keys.append(self._by_conversation(challenge.conversation_id))
        if token_hash:
            keys.append(self._by_token(token_hash))
        await self.redis.delete(*keys)


def _settings(resources: Resources) -> PrivacySettings:
    settings = resources.settings
    assert isinstance(settings, PrivacySettings)
    return settings


def prompt_text(request_type: str, code: str, link: str | None, minutes: int) -> str:
    spaced = f"{code[:3]} {code[3:]}"
    how = f"reply here with the code {spaced}" + (f", or confirm at {link}" if link else "")
    return (
        f"We received a request to {WHAT.get(request_type, 'process')} the personal data we hold about you. "
        f"If you made it, {how} (valid for {minutes} minutes). If you did not, ignore this message."
    )


async def _target_conversation(
    session: AsyncSession, request: PrivacyRequest, channel: str | None
) -> Conversation | None:
    contacts = await find_contacts(session, request.account_id, request.subject)
    if not contacts:
        return None
    channels = [channel] if channel else list(REACHABLE_CHANNELS)
    return await session.scalar(
        select(Conversation)
        .where(
            Conversation.account_id == request.account_id,
            Conversation.contact_id.in_(contacts),
            Conversation.channel.in_(channels),
        )
        .order_by(Conversation.last_message_at.desc().nulls_last(), Conversation.updated_at.desc())
        .limit(1)
    )


async def send_prompt(
    resources: Resources, session: AsyncSession, request: PrivacyRequest, *, actor: str, channel: str | None
) -> dict[str, Any]:
    """Sends (or re-sends, replacing the previous code) the confirmation prompt; returns what the API shows."""
    settings = _settings(resources)
    if request.status != "received":
        raise AppError(409, "not_pending", "only a received request can be confirmed by its subject")
    sent = int((request.report.get("confirmation") or {}).get("prompts", 0))
    if sent >= settings.privacy_confirmation_max_prompts:
        raise AppError(429, "too_many_prompts", "the confirmation prompt was sent the maximum number of times")
    conversation = await _target_conversation(session, request, channel)
    if conversation is None:
        raise AppError(
            409, "no_reachable_channel", "the subject has no conversation on a channel we can reach to confirm"
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    # With several regions the link names its region ("eu.…"): opened through any region, it reaches this one.
    token = tag(settings, secrets.token_urlsafe(32))
    ttl = settings.privacy_confirmation_ttl_seconds
    link = (
        f"{settings.privacy_public_url.rstrip('/')}/api/v1/privacy/confirm/{token}"
        if settings.privacy_public_url
        else None
    )
    now = utcnow()
    event = MessageCreated(
        tenant_id=conversation.account_id,
        conversation_id=conversation.id,
        payload=MessageCreatedPayload(
            message_id=uuid.uuid4(),
            inbox_id=conversation.inbox_id,
            contact_id=conversation.contact_id,
            channel=conversation.channel,
            direction="outbound",
            sender_type="system",
            text=prompt_text(request.type, code, link, max(1, ttl // 60)),
            created_at=now,
        ),
    )
    challenge = Challenge(
        request_id=request.id,
        account_id=request.account_id,
        contact_id=conversation.contact_id,
        conversation_id=conversation.id,
        code_hash=_digest(settings, "code", request.id, code),
        attempts=0,
    )
    await ChallengeStore(resources).save(challenge, _token_digest(settings, token), ttl)
    await resources.bus.publish_many([event])
    expires_at = now + timedelta(seconds=ttl)
    state = {
        "state": "pending",
        "channel": conversation.channel,
        "conversation_id": str(conversation.id),
        "sent_at": now.isoformat(),
        "expires_at": expires_at.isoformat(),
        "prompts": sent + 1,
    }
    request.report = {**request.report, "confirmation": state}
    flag_modified(request, "report")
    await audit.record(
        session,
        account_id=request.account_id,
        actor=actor,
        action=f"{request.type}.confirmation_sent",
        request_id=request.id,
        details={"channel": conversation.channel, "prompts": sent + 1},
    )
    await session.commit()
    log.info("privacy_confirmation_sent", request_id=str(request.id), channel=conversation.channel)
    return state


async def mark_verified(
    session: AsyncSession,
    request: PrivacyRequest,
    *,
    actor: str,
    contact_ids: list[uuid.UUID],
    approved_by: uuid.UUID | None,
    details: dict[str, Any],
) -> None:
    """received -> verified, fixing the contacts it covers (the caller commits)."""
    request.contact_ids = [str(c) for c in contact_ids]
    request.status = "verified"
    request.verified_at = utcnow()
    request.approved_by = approved_by
    request.next_attempt_at = None
    await audit.record(
        session,
        account_id=request.account_id,
        actor=actor,
        action=f"{request.type}.verified",
        request_id=request.id,
        details={"contacts": len(contact_ids), **details},
    )


def _set_state(request: PrivacyRequest, state: str, **extra: Any) -> None:
    current = dict(request.report.get("confirmation") or {})
    current.update(state=state, **extra)
    request.report = {**request.report, "confirmation": current}
    flag_modified(request, "report")


async def confirm(resources: Resources, challenge: Challenge, *, via: str) -> bool:
    """Consumes the challenge; True when this call verified the request."""
    async with cross_tenant_session(resources.sessionmaker) as session:
        request = await session.get(PrivacyRequest, challenge.request_id, with_for_update=True)
        verified = False
        if request is not None and request.account_id == challenge.account_id and request.status == "received":
            await mark_verified(
                session,
                request,
                actor="subject",
                contact_ids=[challenge.contact_id],
                approved_by=None,
                details={"via": via},
            )
            _set_state(request, "confirmed", confirmed_at=utcnow().isoformat())
            verified = True
        await session.commit()
    await ChallengeStore(resources).withdraw(challenge)
    if verified:
        log.info("privacy_confirmation_confirmed", request_id=str(challenge.request_id), via=via)
    return verified


async def _fail(resources: Resources, challenge: Challenge) -> None:
    settings = _settings(resources)
    store = ChallengeStore(resources)
    attempts = await store.failed_attempt(challenge.request_id)
    locked = attempts >= settings.privacy_confirmation_max_attempts
    if locked:
        await store.withdraw(challenge)
    async with cross_tenant_session(resources.sessionmaker) as session:
        request = await session.get(PrivacyRequest, challenge.request_id, with_for_update=True)
        if request is None:
            return
        if locked:
            _set_state(request, "locked", attempts=attempts)
        await audit.record(
            session,
            account_id=request.account_id,
            actor="subject",
            action=f"{request.type}.confirmation_{'locked' if locked else 'failed'}",
            request_id=request.id,
            details={"attempts": attempts},
        )
        await session.commit()


def codes_in(text: str | None) -> list[str]:
    return ["".join(match) for match in CODE_RE.findall(text or "")]


async def check_reply(resources: Resources, conversation_id: uuid.UUID, text: str | None) -> bool | None:
    """A customer's message in a conversation with a pending prompt: True when it confirmed, False when it
    held a wrong code (an attempt), None when it held no code or nothing is pending."""
    candidates = codes_in(text)
    if not candidates:
        return None  # most messages hold nothing like a code: no lookup for them
    challenge = await ChallengeStore(resources).for_conversation(conversation_id)
    if challenge is None:
        return None
    settings = _settings(resources)
    for candidate in candidates[:3]:
        if hmac.compare_digest(_digest(settings, "code", challenge.request_id, candidate), challenge.code_hash):
            return await confirm(resources, challenge, via="channel")
    await _fail(resources, challenge)
    return False


async def challenge_for_link(resources: Resources, token: str) -> Challenge:
    if not token or len(token) > 128:
        raise AppError(404, "confirmation_invalid", "this confirmation link is invalid, used or expired")
    challenge = await ChallengeStore(resources).for_token(_token_digest(_settings(resources), token))
    if challenge is None:
        raise AppError(404, "confirmation_invalid", "this confirmation link is invalid, used or expired")
    return challenge


class ConfirmationListener:
    """The ``privacy-confirmations`` consumer group: customers' messages in conversations with a pending prompt."""

    def __init__(self, resources: Resources) -> None:
        self.res = resources
        self._consumer = EventConsumer(
            resources.settings,
            group="privacy-confirmations",
            background=True,
            topics=[CONVERSATIONS_TOPIC],
            handler=self.handle,
            bus=resources.bus,
            accepts=EventFilter(types=frozenset({"message.created"}), directions=frozenset({"inbound"})),
            # Every customer message passes the filter, and a prompt is pending in a handful of conversations:
            # one read per poll says which, and only their messages are decrypted and parsed.
            gate=self.pending,
        )

    async def pending(self, records: list[ConsumerRecord]) -> list[bool]:
        """Whether each record's conversation (its key) has a confirmation prompt pending; a record whose key is
        not a conversation id passes (its event decides)."""
        conversations: dict[bytes, str] = {}
        for record in records:
            with contextlib.suppress(ValueError, AttributeError):
                conversations[record.key] = self.res.keys.privacy_confirmation_of(uuid.UUID(record.key.decode()))
        pending: set[bytes] = set()
        if conversations:
            found = await self.res.redis.mget(list(conversations.values()))
            pending = {key for key, value in zip(conversations, found, strict=True) if value}
        return [r.key not in conversations or r.key in pending for r in records]

    @property
    def group(self) -> str:
        return self._consumer.group

    @property
    def ready(self) -> bool:
        return self._consumer.ready

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def handle(self, event: Event, _record: ConsumerRecord) -> None:
        if not isinstance(event, MessageCreated) or event.payload.direction != "inbound":
            return
        await check_reply(self.res, event.conversation_id, event.payload.text)
