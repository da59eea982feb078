"""Routing invariants with three router replicas (one consumer group, one topic) against the real Postgres,
Redis and broker: hundreds of conversations while agents go on and offline at random.

Checked continuously (a monitor samples every agent's load against their capacity in one statement) and at
the end: no agent ever over capacity, no conversation assigned twice (one assignment row and one distinct
``conversation.assigned`` event on Kafka each) or lost (every one assigned or queued), the queue drains once
capacity appears, and a replica killed mid-stream (consumer stopped without committing) loses nothing.
"""

from __future__ import annotations

import asyncio
import random
import uuid

import pytest
from sqlalchemy import update
from switchboard_common.domain.accounts.models import User
from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.infra.runtime import Resources
from switchboard_devstack.servers import StackUrls
from switchboard_router.bench import Seed, create_conversations, seed_account, set_online

from tests.helpers.router import CapacityMonitor, check_exactly_once, placement, publish_created, replicas, wait_until


async def drain_with_capacity(res: Resources, seed: Seed) -> None:
    """Capacity appears (everyone online, higher limits): the queue must empty."""
    async with cross_tenant_session(res.sessionmaker) as session, session.begin():
        await session.execute(update(User).where(User.account_id == seed.account_id).values(max_conversations=500))
    for agent_id in seed.agent_ids:
        await set_online(res, seed.account_id, agent_id, True)

    async def drained() -> bool:
        placed = await placement(res, seed.account_id)
        return placed["queued"] == 0 and placed["unplaced"] == 0

    await wait_until(drained, timeout=60)


@pytest.mark.timeout(150)
async def test_three_replicas_never_overfill_nor_double_assign(stack_urls: StackUrls) -> None:
    rng = random.Random(5)
    async with replicas(stack_urls) as running:
        res = running[0].res
        capacities = [rng.randint(1, 4) for _ in range(12)]
        seed = await seed_account(res, capacities=capacities, routing_settings={"give_back_on_offline": False})
        conversations = await create_conversations(res, seed, 300)
        monitor = CapacityMonitor(res, seed.account_id)
        online: set[uuid.UUID] = set()
        for start in range(0, len(conversations), 25):
            await publish_created(res, seed, conversations[start : start + 25])
            for agent_id in rng.sample(seed.agent_ids, 4):
                want = agent_id not in online
                await set_online(res, seed.account_id, agent_id, want)
                (online.add if want else online.discard)(agent_id)
            await asyncio.sleep(rng.uniform(0, 0.2))

        async def all_placed() -> bool:
            placed = await placement(res, seed.account_id)
            return placed["unplaced"] == 0 and sum(placed.values()) == len(conversations)

        await wait_until(all_placed, timeout=60)
        # Nothing lost: every conversation is assigned or waiting, and the queue is served while it can be.
        await drain_with_capacity(res, seed)
        await monitor.stop()
        assert monitor.samples > 10
        assert monitor.violations == [], f"over capacity: {monitor.violations[:5]}"
        await check_exactly_once(res, seed, conversations)


@pytest.mark.timeout(150)
async def test_a_replica_killed_mid_stream_loses_nothing(stack_urls: StackUrls) -> None:
    async with replicas(stack_urls) as running:
        res = running[1].res
        seed = await seed_account(res, capacities=[2] * 8, routing_settings={"give_back_on_offline": False})
        for agent_id in seed.agent_ids:
            await set_online(res, seed.account_id, agent_id, True)
        conversations = await create_conversations(res, seed, 160)
        monitor = CapacityMonitor(res, seed.account_id)
        # Every replica owns partitions before one dies (a consumer still joining would leave a zombie member).
        for replica in running:
            await asyncio.wait_for(replica.workers.workers[0].started.wait(), 30)

        async def balanced() -> bool:
            return all(r.workers.workers[0]._consumer.assignment() for r in running)

        await wait_until(balanced, timeout=30)
        await publish_created(res, seed, conversations[:80])
        await asyncio.sleep(0.3)
        await running[0].kill()
        running.pop(0)
        await publish_created(res, seed, conversations[80:])

        async def all_placed() -> bool:
            placed = await placement(res, seed.account_id)
            return placed["unplaced"] == 0 and sum(placed.values()) == len(conversations)

        await wait_until(all_placed, timeout=60)
        await drain_with_capacity(res, seed)
        await monitor.stop()
        assert monitor.violations == []
        await check_exactly_once(res, seed, conversations)
