"""Routing commands: how the gateway (and operators, tests) ask an account's routing writer to act, and wait
for its answer.

A command is a ``routing.command`` event on the routing topic, keyed by account, so it reaches the one router
replica that writes the account's routing state (docs/routing.md). The writer pushes the outcome, once it is
committed, to a Redis list named in the command; the caller waits on that list. A command the writer has not
reached by its deadline is dropped there, so a caller that gave up (503) never sees it happen later.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from switchboard_common.domain.events import (
    AgentPresenceChanged,
    AgentPresencePayload,
    RoutingAction,
    RoutingCommand,
    RoutingCommandPayload,
)
from switchboard_common.infra.cache import TextRedis
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.runtime import Resources

REPLY_SECONDS = 10.0
# Long enough for a caller that is still waiting; the list is gone soon after.
REPLY_TTL_SECONDS = 60


@dataclass(frozen=True)
class CommandResult:
    """A command's outcome: 200, or the status and machine-readable code of its refusal."""

    status: int = 200
    code: str | None = None
    message: str | None = None
    details: dict[str, Any] | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status < 400

    def encode(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))


class RoutingUnavailable(Exception):
    """No routing writer answered in time (the command will not be applied later: it carries a deadline)."""


def command(
    account_id: uuid.UUID,
    action: RoutingAction,
    *,
    conversation_id: uuid.UUID | None = None,
    reply_to: str | None = None,
    timeout: float = REPLY_SECONDS,
    **fields: Any,
) -> RoutingCommand:
    command_id = uuid.uuid4()
    return RoutingCommand(
        tenant_id=account_id,
        conversation_id=conversation_id,
        payload=RoutingCommandPayload(
            command_id=command_id,
            action=action,
            reply_to=reply_to,
            deadline=utcnow() + timedelta(seconds=timeout) if reply_to else None,
            **fields,
        ),
    )


async def send(
    res: Resources,
    account_id: uuid.UUID,
    action: RoutingAction,
    *,
    conversation_id: uuid.UUID | None = None,
    timeout: float = REPLY_SECONDS,
    **fields: Any,
) -> CommandResult:
    """Sends a command to the account's writer and waits for its committed outcome."""
    reply_to = res.keys.routing_reply(uuid.uuid4())
    await res.bus.publish(
        command(account_id, action, conversation_id=conversation_id, reply_to=reply_to, timeout=timeout, **fields)
    )
    got = await res.redis.blpop([reply_to], timeout=timeout)
    if got is None:
        raise RoutingUnavailable(action)
    return CommandResult(**json.loads(got[1]))


async def notify(
    res: Resources,
    account_id: uuid.UUID,
    action: RoutingAction,
    *,
    conversation_id: uuid.UUID | None = None,
    **fields: Any,
) -> None:
    """Sends a command without waiting (the writer applies it in order with everything else)."""
    await res.bus.publish(command(account_id, action, conversation_id=conversation_id, **fields))


async def reply(redis: TextRedis, replies: list[tuple[str, CommandResult]]) -> None:
    """The writer's side: outcomes to their callers, after commit."""
    if not replies:
        return
    async with redis.pipeline(transaction=False) as pipe:
        for key, result in replies:
            pipe.rpush(key, result.encode())
            pipe.expire(key, REPLY_TTL_SECONDS)
        await pipe.execute()


async def announce_presence(res: Resources, account_id: uuid.UUID, agent_id: uuid.UUID, status: str) -> None:
    """An agent's presence changed: the public event (agents topic, for consoles) and, beside it, the command
    that tells the account's routing writer (one hop: an agent coming online is served at once)."""
    await res.bus.publish_many(
        [
            AgentPresenceChanged(
                tenant_id=account_id,
                payload=AgentPresencePayload(agent_id=agent_id, status=status),
            ),
            command(account_id, "presence", agent_id=agent_id, status=status),
        ]
    )
