"""Agent presence in Redis: a status per agent (hash per tenant) and live socket connections.

The status an agent chooses is stored as is; "online" means online status *and* at least one live socket
(heartbeat within ``CONNECTION_TTL``).
"""

from __future__ import annotations

import time
import uuid

from redis.asyncio import Redis

from switchboard_common.cache import Keys

CONNECTION_TTL_SECONDS = 60


async def set_status(redis: Redis, keys: Keys, tenant_id: uuid.UUID, agent_id: uuid.UUID, status: str) -> str | None:
    """Sets the status; returns the previous one."""
    key = keys.presence(tenant_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hget(key, str(agent_id))
        pipe.hset(key, str(agent_id), status)
        previous, _ = await pipe.execute()
    return previous


async def get_statuses(redis: Redis, keys: Keys, tenant_id: uuid.UUID) -> dict[uuid.UUID, str]:
    raw = await redis.hgetall(keys.presence(tenant_id))
    return {uuid.UUID(agent): status for agent, status in raw.items()}


async def add_connection(redis: Redis, keys: Keys, agent_id: uuid.UUID, connection_id: str) -> int:
    key = keys.agent_connections(agent_id)
    now = time.time()
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zadd(key, {connection_id: now + CONNECTION_TTL_SECONDS})
        pipe.expire(key, CONNECTION_TTL_SECONDS * 2)
        pipe.zcard(key)
        *_, count = await pipe.execute()
    return int(count)


async def heartbeat(redis: Redis, keys: Keys, agent_id: uuid.UUID, connection_id: str) -> None:
    await add_connection(redis, keys, agent_id, connection_id)


async def remove_connection(redis: Redis, keys: Keys, agent_id: uuid.UUID, connection_id: str) -> int:
    key = keys.agent_connections(agent_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zrem(key, connection_id)
        pipe.zremrangebyscore(key, "-inf", time.time())
        pipe.zcard(key)
        *_, count = await pipe.execute()
    return int(count)


async def online_agents(redis: Redis, keys: Keys, tenant_id: uuid.UUID) -> set[uuid.UUID]:
    statuses = await get_statuses(redis, keys, tenant_id)
    candidates = [agent for agent, status in statuses.items() if status == "online"]
    if not candidates:
        return set()
    now = time.time()
    async with redis.pipeline(transaction=False) as pipe:
        for agent in candidates:
            pipe.zcount(keys.agent_connections(agent), now, "+inf")
        counts = await pipe.execute()
    return {agent for agent, count in zip(candidates, counts, strict=True) if count > 0}
