"""Queue drains against the real servers: capacity that appears is used at once and completely."""

from __future__ import annotations

import pytest
from switchboard_devstack.servers import StackUrls
from switchboard_router.bench import create_conversations, seed_account, set_online

from tests.helpers.router import placement, publish_created, replicas, wait_until


@pytest.mark.timeout(120)
async def test_drain_fills_fractional_room(stack_urls: StackUrls) -> None:
    """Web conversations weigh 0.5: an agent of capacity 1 takes two from the queue (a drain that assumed
    weight 1 stopped after the first)."""
    async with replicas(stack_urls, count=1) as running:
        res = running[0].res
        seed = await seed_account(res, capacities=[1], routing_settings={"channel_weights": {"web": 0.5}})
        conversations = await create_conversations(res, seed, 3)
        await publish_created(res, seed, conversations)

        async def all_queued() -> bool:
            return (await placement(res, seed.account_id))["queued"] == 3

        await wait_until(all_queued, timeout=30)
        await set_online(res, seed.account_id, seed.agent_ids[0], True)

        async def two_assigned() -> bool:
            placed = await placement(res, seed.account_id)
            return placed["assigned"] == 2 and placed["queued"] == 1

        await wait_until(two_assigned, timeout=30)
