"""Per-recipient Redis Streams feeding agent and visitor sockets.

Every socket reads its recipient's stream from the last id it saw, so a reconnect to any gateway replica
replays what it missed. ``push_once`` appends at most once per (stream, dedupe id): a Kafka redelivery
after a crash cannot show an agent the same message twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis

STREAM_MAXLEN = 1000
STREAM_TTL_SECONDS = 7 * 24 * 3600
DEDUPE_TTL_SECONDS = 24 * 3600
# A socket's blocking read: shorter than the Redis client's read timeout (switchboard_common.infra.cache).
DEFAULT_BLOCK_MS = 10_000

_PUSH_ONCE = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[3]) then
  local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'data', ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  return id
end
return false
"""


class StreamPublisher:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.namespace = namespace
        self._script = redis.register_script(_PUSH_ONCE)

    async def push_once(self, stream: str, dedupe_id: str, message: dict[str, Any]) -> str | None:
        dedupe_key = f"{self.namespace}:pushed:{stream}:{dedupe_id}"
        result = await self._script(
            keys=[stream, dedupe_key],
            args=[json.dumps(message, default=str), STREAM_MAXLEN, DEDUPE_TTL_SECONDS, STREAM_TTL_SECONDS],
        )
        return str(result) if result else None

    async def push_once_to_each(self, streams: list[str], dedupe_id: str, message: dict[str, Any]) -> None:
        """The same frame to several recipients (once each), in one round trip."""
        if not streams:
            return
        data = json.dumps(message, default=str)
        async with self.redis.pipeline(transaction=False) as pipe:
            for stream in streams:
                await self._script(
                    keys=[stream, f"{self.namespace}:pushed:{stream}:{dedupe_id}"],
                    args=[data, STREAM_MAXLEN, DEDUPE_TTL_SECONDS, STREAM_TTL_SECONDS],
                    client=pipe,
                )
            await pipe.execute()

    async def push_many(self, pushes: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """``push_once`` for each (stream, dedupe id, message), in order, in one round trip (a pipeline)."""
        if not pushes:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for stream, dedupe_id, message in pushes:
                await self._script(
                    keys=[stream, f"{self.namespace}:pushed:{stream}:{dedupe_id}"],
                    args=[json.dumps(message, default=str), STREAM_MAXLEN, DEDUPE_TTL_SECONDS, STREAM_TTL_SECONDS],
                    client=pipe,
                )
            await pipe.execute()


async def read_stream(
    redis: Redis, stream: str, last_id: str, block_ms: int = DEFAULT_BLOCK_MS, count: int = 100
) -> list[tuple[str, dict[str, Any]]]:
    """Entries after ``last_id`` (``$`` = only new ones), waiting up to ``block_ms`` for the first."""
    result = await redis.xread({stream: last_id}, block=block_ms, count=count)
    entries: list[tuple[str, dict[str, Any]]] = []
    for _name, items in result or []:
        for entry_id, fields in items:
            entries.append((entry_id, json.loads(fields["data"])))
    return entries
