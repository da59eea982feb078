"""Who is routable: agents whose status is online and who have a live connection, read for a whole account in a
few round trips however many agents it has (the router re-reads every account's presence every 15 s)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from switchboard_common.domain.accounts import presence
from switchboard_common.infra.cache import Keys
from switchboard_devstack.servers import StackUrls


class CountingRedis:
    """The client, counting every command it is asked to send (alone or queued in a pipeline)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.commands = 0

    def pipeline(self, *args: Any, **kwargs: Any) -> CountingPipeline:
        return CountingPipeline(self, self.redis.pipeline(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.redis, name)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.commands += 1
            return await method(*args, **kwargs)

        return counted


class CountingPipeline:
    def __init__(self, owner: CountingRedis, pipe: Any) -> None:
        self.owner = owner
        self.pipe = pipe

    async def __aenter__(self) -> CountingPipeline:
        await self.pipe.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.pipe.__aexit__(*exc)

    async def execute(self) -> Any:
        return await self.pipe.execute()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.pipe, name)

        def queued(*args: Any, **kwargs: Any) -> Any:
            self.owner.commands += 1
            return method(*args, **kwargs)

        return queued


@pytest.fixture
async def redis(stack_urls: StackUrls) -> AsyncIterator[Redis]:
    client = Redis.from_url(stack_urls.redis_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


async def test_online_agents_are_those_online_with_a_live_connection_read_in_few_round_trips(redis: Redis) -> None:
    keys = Keys(f"t{uuid.uuid4().hex[:10]}")
    account = uuid.uuid4()
    agents = [uuid.uuid4() for _ in range(2_500)]
    connected, away, stale = set(agents[:1_800]), agents[1_800], agents[1_801]
    for agent in agents:
        await presence.set_status(redis, keys, account, agent, "away" if agent == away else "online")  # type: ignore[arg-type]
    async with redis.pipeline(transaction=False) as pipe:
        for agent in connected | {away}:
            pipe.zadd(keys.agent_connections(agent), {"socket": time.time() + 60})
        # A connection whose heartbeat stopped: its expiry has passed.
        pipe.zadd(keys.agent_connections(stale), {"socket": time.time() - 1})
        await pipe.execute()
    counting = CountingRedis(redis)
    online = await presence.online_agents(counting, keys, account)  # type: ignore[arg-type]
    assert online == connected
    # The statuses, then one call per thousand agents (not one command per agent).
    assert counting.commands <= 4, counting.commands
    assert await presence.online_agents(counting, keys, uuid.uuid4()) == set()  # type: ignore[arg-type]


async def test_a_socket_opening_takes_one_round_trip(redis: Redis) -> None:
    """What a handshake does in Redis (live connection, grace period cancelled, the agent's choice restored,
    where the stream starts) is one command: five before, each waiting its turn when hundreds of agents connect
    at once."""
    keys = Keys(f"t{uuid.uuid4().hex[:10]}")
    account, agent, chose_away = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    stream = keys.agent_stream(agent)
    await presence.schedule_offline(redis, keys, account, agent, grace_seconds=30)  # type: ignore[arg-type]
    await presence.set_status(redis, keys, account, agent, "offline")  # type: ignore[arg-type]
    entry = await redis.xadd(stream, {"data": "{}"})
    counting = CountingRedis(redis)
    opened = await presence.open_connection(
        counting,  # type: ignore[arg-type]
        keys,
        account,
        agent,
        "socket-1",
        stream=stream,
        newest_of_stream=True,
    )
    assert opened == ("offline", "online", entry)  # never chose: online while connected
    assert counting.commands == 1
    assert await presence.live_connections(redis, keys, agent) == 1  # type: ignore[arg-type]
    assert await redis.zscore(presence.grace_key(keys), f"{account}:{agent}") is None
    assert await presence.online_agents(redis, keys, account) == {agent}  # type: ignore[arg-type]
    # A choice survives the reconnect; a socket resuming from its last id reads no stream; an empty stream
    # starts at the beginning.
    await presence.choose_status(redis, keys, account, chose_away, "away")  # type: ignore[arg-type]
    resumed = await presence.open_connection(
        redis,  # type: ignore[arg-type]
        keys,
        account,
        chose_away,
        "socket-2",
        stream=keys.agent_stream(chose_away),
        newest_of_stream=False,
    )
    assert resumed == ("away", "away", None)
    fresh = await presence.open_connection(
        redis,  # type: ignore[arg-type]
        keys,
        account,
        chose_away,
        "socket-3",
        stream=keys.agent_stream(chose_away),
        newest_of_stream=True,
    )
    assert fresh == ("away", "away", "0-0")
    assert await presence.live_connections(redis, keys, chose_away) == 2  # type: ignore[arg-type]
