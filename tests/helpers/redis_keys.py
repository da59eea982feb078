"""The key registry holds every Redis key: what a run leaves in Redis must match a registered kind."""

from __future__ import annotations

from redis.asyncio import Redis
from switchboard_common.infra.cache import Keys


async def unregistered_keys(redis_url: str, namespace: str) -> list[str]:
    """Keys of ``namespace`` that no registered kind describes (a scan is fine here: this is a test)."""
    redis = Redis.from_url(redis_url, decode_responses=True)
    keys = Keys(namespace)
    try:
        return sorted([k async for k in redis.scan_iter(match=f"{namespace}:*", count=1000) if keys.kind_of(k) is None])
    finally:
        await redis.aclose()
