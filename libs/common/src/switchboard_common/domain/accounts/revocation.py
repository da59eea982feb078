"""Telling every gateway replica that agent credentials or powers changed, so open agent sockets re-check at
once instead of at their next heartbeat.

Whoever revokes (logout, password change, session revocation, role change, allowlist or 2FA policy change,
agent deletion, account suspension) announces it on a Redis pub/sub channel after committing; each gateway
replica listens and wakes the matching sockets, which authenticate their token again and close with 1008 when
it no longer opens the agent API. Pub/sub delivers to whoever listens now: a replica that was disconnected
wakes every socket when it resubscribes, and each socket re-checks on every heartbeat anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from redis.exceptions import RedisError

from switchboard_common.infra.cache import Keys, TextRedis

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Revocation:
    """Which sockets must re-check: every agent of the account, one agent's, or one login's."""

    account_id: uuid.UUID
    user_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None

    def dumps(self) -> str:
        return json.dumps({k: str(v) for k, v in vars(self).items() if v is not None})

    @classmethod
    def loads(cls, raw: str) -> Revocation:
        data = json.loads(raw)
        return cls(
            account_id=uuid.UUID(data["account_id"]),
            user_id=uuid.UUID(data["user_id"]) if data.get("user_id") else None,
            session_id=uuid.UUID(data["session_id"]) if data.get("session_id") else None,
        )


async def announce(redis: TextRedis, keys: Keys, revocation: Revocation) -> None:
    """Best effort after the change is committed: a lost announcement is caught by the next heartbeat."""
    try:
        await redis.publish(keys.revocations(), revocation.dumps())
    except RedisError as exc:
        log.warning("revocation_not_announced", error=type(exc).__name__)


# Called with None when announcements may have been missed (first subscription, a reconnect): re-check all.
RevocationHandler = Callable[[Revocation | None], Awaitable[None]]


async def listen(redis: TextRedis, keys: Keys, handle: RevocationHandler, *, retry_seconds: float = 1.0) -> None:
    """Runs until cancelled, resubscribing after Redis errors."""
    while True:
        try:
            async with redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                await pubsub.subscribe(keys.revocations())
                await handle(None)
                while True:
                    message = await pubsub.get_message(timeout=10.0)
                    if message is None or message.get("type") != "message":
                        continue
                    try:
                        revocation = Revocation.loads(message["data"])
                    except (ValueError, KeyError, TypeError):
                        continue
                    await handle(revocation)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("revocation_listener_error", error=type(exc).__name__)
            await asyncio.sleep(retry_seconds)


class RevocationListener:
    """The gateway's background worker around :func:`listen`."""

    def __init__(self, redis: TextRedis, keys: Keys, handle: RevocationHandler) -> None:
        self.redis = redis
        self.keys = keys
        self.handle = handle
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(listen(self.redis, self.keys, self.handle), name="revocations")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
