"""Agent presence in Redis: a status per agent (hash per tenant) and live socket connections.

Two hashes per tenant: ``presence`` holds the effective status the router reads ("online" counts only with at
least one live socket, heartbeat within ``CONNECTION_TTL``); ``presence-choice`` holds what the agent chose
(online, away, offline). A reconnect restores the choice, the end of a grace period without a socket sets the
effective status offline and leaves the choice alone: an agent who chose Away stays Away across reloads.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

from switchboard_common.infra.cache import Keys, TextRedis

CONNECTION_TTL_SECONDS = 60


async def set_status(
    redis: TextRedis, keys: Keys, tenant_id: uuid.UUID, agent_id: uuid.UUID, status: str
) -> str | None:
    """Sets the status; returns the previous one."""
    key = keys.presence(tenant_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hget(key, str(agent_id))
        pipe.hset(key, str(agent_id), status)
        previous: str | None
        previous, _ = await pipe.execute()
    return previous


async def choose_status(
    redis: TextRedis, keys: Keys, tenant_id: uuid.UUID, agent_id: uuid.UUID, status: str
) -> str | None:
    """The agent's own choice: remembered for their next connection and effective now; returns the previous."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hget(keys.presence(tenant_id), str(agent_id))
        pipe.hset(keys.presence(tenant_id), str(agent_id), status)
        pipe.hset(keys.presence_choice(tenant_id), str(agent_id), status)
        previous: str | None
        previous, _, _ = await pipe.execute()
    return previous


async def forget_choice(redis: TextRedis, keys: Keys, tenant_id: uuid.UUID, agent_id: uuid.UUID) -> None:
    await redis.hdel(keys.presence_choice(tenant_id), str(agent_id))


async def get_statuses(redis: TextRedis, keys: Keys, tenant_id: uuid.UUID) -> dict[uuid.UUID, str]:
    raw = await redis.hgetall(keys.presence(tenant_id))
    return {uuid.UUID(agent): status for agent, status in raw.items()}


async def add_connection(redis: TextRedis, keys: Keys, agent_id: uuid.UUID, connection_id: str) -> int:
    key = keys.agent_connections(agent_id)
    now = time.time()
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zadd(key, {connection_id: now + CONNECTION_TTL_SECONDS})
        pipe.expire(key, CONNECTION_TTL_SECONDS * 2)
        pipe.zcard(key)
        *_, count = await pipe.execute()
    return int(count)


async def heartbeat(redis: TextRedis, keys: Keys, agent_id: uuid.UUID, connection_id: str) -> None:
    await add_connection(redis, keys, agent_id, connection_id)


async def remove_connection(redis: TextRedis, keys: Keys, agent_id: uuid.UUID, connection_id: str) -> int:
    key = keys.agent_connections(agent_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zrem(key, connection_id)
        pipe.zremrangebyscore(key, "-inf", time.time())
        pipe.zcard(key)
        *_, count = await pipe.execute()
    return int(count)


# Which of the given agents' connection sets hold a live connection: the 1-based positions of those that do.
_LIVE_CONNECTIONS = """
local live = {}
for i, key in ipairs(KEYS) do
  if redis.call('ZCOUNT', key, ARGV[1], '+inf') > 0 then table.insert(live, i) end
end
return live
"""
# Agents checked per script call: one round trip for a thousand agents, not one command each (a pipeline of
# 7,500 commands cost the router ~0.75 s of CPU to pack and parse every time it re-read an account's presence).
LIVE_CHECK_CHUNK = 1_000


async def online_agents(redis: TextRedis, keys: Keys, tenant_id: uuid.UUID) -> set[uuid.UUID]:
    """Agents whose status is online and who have a live connection (a heartbeat within the connection TTL)."""
    statuses = await get_statuses(redis, keys, tenant_id)
    return await connected(redis, keys, [agent for agent, status in statuses.items() if status == "online"])


async def connected(redis: TextRedis, keys: Keys, agent_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``agent_ids`` have a live connection (a heartbeat within the connection TTL), whatever their
    status: who has a socket to show a frame on."""
    candidates = list(dict.fromkeys(agent_ids))
    now = time.time()
    live_agents: set[uuid.UUID] = set()
    for start in range(0, len(candidates), LIVE_CHECK_CHUNK):
        chunk = candidates[start : start + LIVE_CHECK_CHUNK]
        live = await redis.eval(_LIVE_CONNECTIONS, len(chunk), *(keys.agent_connections(a) for a in chunk), now)
        live_agents.update(chunk[int(position) - 1] for position in live)
    return live_agents


# --- grace period -------------------------------------------------------------------------------------
# A dropped socket is not a logout: the gateway schedules the agent here when their last connection closes;
# a router replica claims the entry once due and, if the agent has not reconnected, sets them offline.

DEFAULT_GRACE_SECONDS = 30

_CLAIM_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local claimed = {}
for _, member in ipairs(due) do
  if redis.call('ZREM', KEYS[1], member) == 1 then table.insert(claimed, member) end
end
return claimed
"""


def grace_key(keys: Keys) -> str:
    return keys.presence_grace()


async def schedule_offline(
    redis: TextRedis,
    keys: Keys,
    tenant_id: uuid.UUID,
    agent_id: uuid.UUID,
    *,
    grace_seconds: float,
    now: float | None = None,
) -> None:
    due = (time.time() if now is None else now) + grace_seconds
    await redis.zadd(grace_key(keys), {f"{tenant_id}:{agent_id}": due})


async def claim_due_offline(
    redis: TextRedis, keys: Keys, *, now: float | None = None, limit: int = 100
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Atomically takes due entries: with several replicas each entry goes to exactly one."""
    members = await redis.eval(_CLAIM_DUE, 1, grace_key(keys), time.time() if now is None else now, limit)
    claimed = []
    for member in members or []:
        tenant, agent = str(member).split(":", 1)
        claimed.append((uuid.UUID(tenant), uuid.UUID(agent)))
    return claimed


async def live_connections(redis: TextRedis, keys: Keys, agent_id: uuid.UUID, *, now: float | None = None) -> int:
    return int(await redis.zcount(keys.agent_connections(agent_id), time.time() if now is None else now, "+inf"))


# --- a socket opening ------------------------------------------------------------------------------
# KEYS: the agent's connections, the grace set, the account's choices, the account's statuses, the agent's
# stream. ARGV: connection id, now, connection TTL, grace member, agent, "1" to read the stream's newest id.
_OPEN_CONNECTION = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]), ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
redis.call('ZREM', KEYS[2], ARGV[4])
local status = redis.call('HGET', KEYS[3], ARGV[5]) or 'online'
local previous = redis.call('HGET', KEYS[4], ARGV[5]) or ''
redis.call('HSET', KEYS[4], ARGV[5], status)
local newest = ''
if ARGV[6] == '1' then
  local last = redis.call('XREVRANGE', KEYS[5], '+', '-', 'COUNT', 1)
  newest = last[1] and last[1][1] or '0-0'
end
return {previous, status, newest}
"""


async def open_connection(
    redis: TextRedis,
    keys: Keys,
    tenant_id: uuid.UUID,
    agent_id: uuid.UUID,
    connection_id: str,
    *,
    stream: str,
    newest_of_stream: bool,
) -> tuple[str | None, str, str | None]:
    """An agent socket opened, in one round trip: the connection is live (as ``add_connection``), a pending
    grace period is cancelled (a reconnect in time is no logout), the effective status becomes the agent's
    choice (online when they never chose), and, with ``newest_of_stream``, the stream's newest id is read
    (where a socket without ``last_event_id`` starts). Returns (previous effective status, status now, newest
    id or None). Five round trips before, each waiting its turn on a gateway opening hundreds of sockets."""
    previous, status, newest = await redis.eval(
        _OPEN_CONNECTION,
        5,
        keys.agent_connections(agent_id),
        grace_key(keys),
        keys.presence_choice(tenant_id),
        keys.presence(tenant_id),
        stream,
        connection_id,
        time.time(),
        CONNECTION_TTL_SECONDS,
        f"{tenant_id}:{agent_id}",
        str(agent_id),
        "1" if newest_of_stream else "0",
    )
    return previous or None, status, newest or None
