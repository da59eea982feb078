"""Per-recipient Redis Streams feeding agent and visitor sockets.

Every socket reads its recipient's stream from the last id it saw, so a reconnect to any gateway replica
replays what it missed. ``push_once`` appends at most once per (stream, dedupe id): a Kafka redelivery
after a crash cannot show an agent the same message twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from switchboard_common.infra.cache import Keys, TextRedis

STREAM_MAXLEN = 1000
STREAM_TTL_SECONDS = 7 * 24 * 3600
DEDUPE_TTL_SECONDS = 24 * 3600
# A socket's blocking read: shorter than the Redis client's read timeout (switchboard_common.infra.cache).
DEFAULT_BLOCK_MS = 10_000

# KEYS: the stream, its set of pushed ids (scored by when each may be forgotten). ARGV: frame, maxlen, now,
# dedupe ttl, stream ttl, dedupe id, then ids the frame also carries (marked pushed with it, see push_once).
# The ids live in one sorted set per stream (not a key per id), so the key registry names it from the stream
# alone and erasure finds it.
_PUSH_ONCE = """
local now = tonumber(ARGV[3])
if redis.call('ZSCORE', KEYS[2], ARGV[6]) then return false end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
for i = 6, #ARGV do
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[i])
end
redis.call('EXPIRE', KEYS[2], ARGV[4])
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'data', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return id
"""


# KEYS: the stream. ARGV: the frame. A hint that the next one replaces (a queue position): no dedupe id to
# remember, and the bounds written into the script, so each call packs two arguments instead of eight.
_PUSH_HINT = f"""
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', {STREAM_MAXLEN}, '*', 'data', ARGV[1])
redis.call('EXPIRE', KEYS[1], {STREAM_TTL_SECONDS})
return id
"""
# A push: (stream, dedupe id, frame), or with the dedupe ids of frames it carries (see push_once).
Push = tuple[str, str, dict[str, Any]] | tuple[str, str, dict[str, Any], Sequence[str]]
# Pushes per pipeline in push_many.
PIPELINE_PUSHES = 500


class StreamPublisher:
    def __init__(self, redis: TextRedis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self._script = redis.register_script(_PUSH_ONCE)
        self._hint = redis.register_script(_PUSH_HINT)

    def _args(self, data: str, dedupe_id: str, carried: Sequence[str] = ()) -> list[str | int]:
        return [data, STREAM_MAXLEN, int(time.time()), DEDUPE_TTL_SECONDS, STREAM_TTL_SECONDS, dedupe_id, *carried]

    async def push_once(
        self, stream: str, dedupe_id: str, message: dict[str, Any], *, carried: Sequence[str] = ()
    ) -> str | None:
        """Appends ``message`` unless ``dedupe_id`` was pushed to ``stream`` already.

        ``carried`` are the dedupe ids of frames this one already contains (an assignment carries the
        conversation's messages): they are marked pushed with it, so a redelivered event cannot show them again.
        """
        result = await self._script(
            keys=[stream, self.keys.delivered(stream)],
            args=self._args(json.dumps(message, default=str), dedupe_id, carried),
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
                    keys=[stream, self.keys.delivered(stream)], args=self._args(data, dedupe_id), client=pipe
                )
            await pipe.execute()

    async def push_many(self, pushes: Sequence[Push]) -> None:
        """``push_once`` for each (stream, dedupe id, message[, carried ids]), in order, a pipeline per
        :data:`PIPELINE_PUSHES`: one round trip for a poll's frames, and no single pipeline packed so large that
        the event loop stalls building it (other tasks run while each chunk is on the wire)."""
        # One frame fanned out to many agents comes as consecutive pushes of the same dict: serialized once.
        last: tuple[dict[str, Any] | None, str] = (None, "")
        for start in range(0, len(pushes), PIPELINE_PUSHES):
            async with self.redis.pipeline(transaction=False) as pipe:
                for stream, dedupe_id, message, *carried in pushes[start : start + PIPELINE_PUSHES]:
                    if last[0] is not message:
                        last = (message, json.dumps(message, default=str))
                    await self._script(
                        keys=[stream, self.keys.delivered(stream)],
                        args=self._args(last[1], dedupe_id, carried[0] if carried else ()),
                        client=pipe,
                    )
                await pipe.execute()

    async def push_hints(self, pushes: Sequence[tuple[str, dict[str, Any]]], *, per_pipeline: int = 200) -> None:
        """(stream, frame) pairs whose frames only say how things stand now (queue positions: a later one
        replaces an earlier one, and one shown twice misleads nobody): appended without a dedupe id, in
        pipelines of ``per_pipeline``, so a queue of thousands never holds the event loop for long."""
        for start in range(0, len(pushes), per_pipeline):
            async with self.redis.pipeline(transaction=False) as pipe:
                for stream, message in pushes[start : start + per_pipeline]:
                    await self._hint(keys=[stream], args=[json.dumps(message, default=str)], client=pipe)
                await pipe.execute()


async def read_stream(
    redis: TextRedis, stream: str, last_id: str, block_ms: int = DEFAULT_BLOCK_MS, count: int = 100
) -> list[tuple[str, dict[str, Any]]]:
    """Entries after ``last_id`` (``$`` = only new ones), waiting up to ``block_ms`` for the first."""
    result = await redis.xread({stream: last_id}, block=block_ms, count=count)
    entries: list[tuple[str, dict[str, Any]]] = []
    for _name, items in result or []:
        for entry_id, fields in items:
            entries.append((entry_id, json.loads(fields["data"])))
    return entries
