"""The stream publisher's batched pushes: frames in order, in pipelines small enough that packing one never holds
the event loop for long (a drain moved 2,000 queue positions a tick, a poll fanned 500 assignments out), dedupe
ids remembered for frames that need them and none for hints (queue positions)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from switchboard_common.infra.cache import Keys
from switchboard_common.infra.realtime import PIPELINE_PUSHES, StreamPublisher
from switchboard_devstack.servers import StackUrls


class PipelineCounting:
    """The client, noting how many commands each pipeline it opens carries."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.sizes: list[int] = []

    def pipeline(self, *args: Any, **kwargs: Any) -> Any:
        pipe = self.redis.pipeline(*args, **kwargs)
        execute = pipe.execute

        async def counted(*a: Any, **k: Any) -> Any:
            self.sizes.append(len(pipe.command_stack))
            return await execute(*a, **k)

        pipe.execute = counted  # type: ignore[method-assign]
        return pipe

    def __getattr__(self, name: str) -> Any:
        return getattr(self.redis, name)


@pytest.fixture
async def redis(stack_urls: StackUrls) -> AsyncIterator[Redis]:
    client = Redis.from_url(stack_urls.redis_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


async def frames(redis: Redis, stream: str) -> list[dict[str, Any]]:
    return [json.loads(fields["data"]) for _id, fields in await redis.xrange(stream)]


async def test_hints_go_out_in_small_pipelines_in_order_without_dedupe_ids(redis: Redis) -> None:
    keys = Keys(f"t{uuid.uuid4().hex[:10]}")
    counting = PipelineCounting(redis)
    publisher = StreamPublisher(counting, keys)  # type: ignore[arg-type]
    streams = [keys.contact_stream(uuid.uuid4()) for _ in range(3)]
    hints = [(streams[n % 3], {"type": "queue.position", "position": n}) for n in range(450)]
    await publisher.push_hints(hints, per_pipeline=200)
    assert counting.sizes == [200, 200, 50]
    for i, stream in enumerate(streams):
        assert [f["position"] for f in await frames(redis, stream)] == list(range(i, 450, 3))
        assert await redis.ttl(stream) > 0
        assert not await redis.exists(keys.delivered(stream))  # a hint leaves no id to remember
    # The same position again is shown again (the next hint replaces it; nothing to deduplicate).
    await publisher.push_hints([hints[0]])
    assert [f["position"] for f in await frames(redis, streams[0])][-2:] == [447, 0]


async def test_many_pushes_go_out_in_bounded_pipelines_once_each(redis: Redis) -> None:
    keys = Keys(f"t{uuid.uuid4().hex[:10]}")
    counting = PipelineCounting(redis)
    publisher = StreamPublisher(counting, keys)  # type: ignore[arg-type]
    stream = keys.agent_stream(uuid.uuid4())
    count = PIPELINE_PUSHES * 2 + 7
    pushes = [(stream, f"event:{n}", {"n": n}) for n in range(count)]
    await publisher.push_many(pushes)
    assert counting.sizes == [PIPELINE_PUSHES, PIPELINE_PUSHES, 7]
    # Pushed again (a redelivered poll): nothing shows twice; a frame carrying others marks them pushed.
    await publisher.push_many([*pushes[:3], (stream, "event:carrier", {"n": "carrier"}, ["event:later"])])
    await publisher.push_many([(stream, "event:later", {"n": "later"})])
    assert [f["n"] for f in await frames(redis, stream)] == [*range(count), "carrier"]
