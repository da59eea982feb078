"""The single writer per account under failure, against the real servers: a writer frozen (SIGSTOP) past its
session timeout and then resumed writes nothing (its batch is fenced), and a rebalance in the middle of a
queue drain loses nothing and assigns nothing twice."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.domain.conversations import commands
from switchboard_common.domain.conversations.models import Conversation, RoutingHistory, RoutingTimer, RoutingWriter
from switchboard_common.domain.encryption.shredding import event_codec
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.infra.realtime import Push, StreamPublisher
from switchboard_common.infra.runtime import Resources
from switchboard_devstack.processes import ServiceProcess
from switchboard_devstack.servers import StackUrls
from switchboard_router.app import background_workers
from switchboard_router.bench import create_conversations, seed_account, set_online
from switchboard_router.feed import RoutingFeed
from switchboard_router.writer import ORIGIN_HEADER
from switchboard_router.writer import RoutingWriter as Writer

from tests.helpers.live import make_env
from tests.helpers.router import (
    LOAD_SQL,
    CapacityMonitor,
    Replica,
    check_exactly_once,
    placement,
    publish_created,
    replicas,
    router_settings,
    wait_until,
)

FENCED = re.compile(r"^switchboard_routing_fenced_total ([0-9.e+]+)$", re.MULTILINE)


def fenced_count(process: ServiceProcess) -> float:
    found = FENCED.search(httpx.get(f"{process.url}/metrics", timeout=5).text)
    return float(found.group(1)) if found else 0.0


async def history(res: Resources, account_id: uuid.UUID) -> dict[uuid.UUID, list[tuple[str, uuid.UUID | None]]]:
    async with cross_tenant_session(res.sessionmaker) as session:
        rows = (
            await session.execute(
                select(RoutingHistory.conversation_id, RoutingHistory.action, RoutingHistory.agent_id)
                .where(RoutingHistory.account_id == account_id)
                .order_by(RoutingHistory.id)
            )
        ).all()
    found: dict[uuid.UUID, list[tuple[str, uuid.UUID | None]]] = defaultdict(list)
    for conversation_id, action, agent_id in rows:
        found[conversation_id].append((action, agent_id))
    return found


def consistent(actions: list[tuple[str, uuid.UUID | None]]) -> bool:
    """Every missed offer is the offer standing at that moment (a stale writer would repeat an old one)."""
    offered_to = None
    for action, agent_id in actions:
        if action == "offered":
            offered_to = agent_id
        elif action == "offer_missed":
            if agent_id != offered_to:
                return False
            offered_to = None
        elif action == "assigned":
            offered_to = None
    return True


@pytest.mark.timeout(240)
async def test_a_writer_paused_past_its_session_writes_nothing_when_resumed(
    stack_urls: StackUrls, tmp_path: Path
) -> None:
    env = make_env(stack_urls, KAFKA_TOPIC_PARTITIONS="2", LOG_JSON="false")
    settings = router_settings(stack_urls, env["KAFKA_NAMESPACE"]).model_copy(update={"kafka_topic_partitions": 2})
    res = await Resources.open(settings, event_codec)
    log_dir = tmp_path
    routers = [ServiceProcess("router", env, log_dir, name=f"router-{i}") for i in range(2)]
    try:
        for router in routers:
            router.start()
        for router in routers:
            await asyncio.to_thread(router.wait_ready)
        # Offers that expire while their writer is frozen: it holds their timers in memory.
        seed = await seed_account(res, capacities=[3] * 4, inbox_routing={"offer_timeout_seconds": 4})
        for agent_id in seed.agent_ids:
            await set_online(res, seed.account_id, agent_id, True)
        conversations = await create_conversations(res, seed, 8)
        await publish_created(res, seed, conversations)

        async def all_offered() -> bool:
            async with cross_tenant_session(res.sessionmaker) as session:
                offers = await session.scalar(
                    select(func.count()).where(RoutingTimer.kind == "offer", RoutingTimer.account_id == seed.account_id)
                )
            return offers == len(conversations)

        await wait_until(all_offered, timeout=60)
        async with cross_tenant_session(res.sessionmaker) as session:
            owner = await session.scalar(select(RoutingWriter.owner).where(RoutingWriter.account_id == seed.account_id))
        assert owner is not None
        frozen = next(r for r in routers if r.pid == int(owner.split(":")[1]))
        survivor = next(r for r in routers if r is not frozen)
        assert fenced_count(frozen) == 0

        os.kill(frozen.pid, signal.SIGSTOP)  # type: ignore[arg-type]
        try:
            # The group evicts it after its session timeout; the survivor takes the account over (epoch raised),
            # fires the expired offers and offers again.
            async def taken_over() -> bool:
                async with cross_tenant_session(res.sessionmaker) as session:
                    now_owner = await session.scalar(
                        select(RoutingWriter.owner).where(RoutingWriter.account_id == seed.account_id)
                    )
                missed = sum(
                    a == "offer_missed"
                    for actions in (await history(res, seed.account_id)).values()
                    for a, _ in actions
                )
                return now_owner is not None and int(now_owner.split(":")[1]) == survivor.pid and missed >= 8

            await wait_until(taken_over, timeout=90, interval=0.5)
        finally:
            os.kill(frozen.pid, signal.SIGCONT)  # type: ignore[arg-type]

        # Resumed, the frozen writer fires the same expired offers from memory: its batch is refused.
        deadline = time.monotonic() + 30
        while fenced_count(frozen) < 1:
            assert time.monotonic() < deadline, "the resumed writer never tried to write"
            await asyncio.sleep(0.2)
        for conversation_id, actions in (await history(res, seed.account_id)).items():
            assert consistent(actions), f"a stale write in {conversation_id}: {actions}"

        # From here on offers are taken at once: everything ends assigned once, nobody over capacity.
        async with cross_tenant_session(res.sessionmaker) as session, session.begin():
            await session.execute(update(Inbox).where(Inbox.id == seed.inbox_id).values(routing={}))
        await commands.notify(res, seed.account_id, "refresh")

        async def all_assigned() -> bool:
            return (await placement(res, seed.account_id))["assigned"] == len(conversations)

        await wait_until(all_assigned, timeout=60)
        async with cross_tenant_session(res.sessionmaker) as session:
            for _, capacity, held in (await session.execute(LOAD_SQL, {"account": seed.account_id})).all():
                assert held <= capacity
        await check_exactly_once(res, seed, conversations)
        for conversation_id, actions in (await history(res, seed.account_id)).items():
            assert consistent(actions), f"a stale write in {conversation_id}: {actions}"
    finally:
        for router in routers:
            if router.running:
                router.kill9()
        await res.close()


@pytest.mark.timeout(240)
async def test_a_rebalance_in_the_middle_of_a_drain_loses_and_doubles_nothing(stack_urls: StackUrls) -> None:
    async with replicas(stack_urls, count=1) as running:
        # The test's own connections: the replicas come and go.
        res = await Resources.open(router_settings(stack_urls, running[0].res.settings.kafka_namespace), event_codec)
        try:
            seed = await seed_account(res, capacities=[20] * 30, routing_settings={"give_back_on_offline": False})
            conversations = await create_conversations(res, seed, 600)
            await publish_created(res, seed, conversations)

            async def all_queued() -> bool:
                return (await placement(res, seed.account_id))["queued"] == len(conversations)

            await wait_until(all_queued, timeout=60)
            monitor = CapacityMonitor(res, seed.account_id)
            # Everybody comes online at once: the drain starts on the only replica...
            await asyncio.gather(*(set_online(res, seed.account_id, a, True) for a in seed.agent_ids))
            # ...and two more replicas join while it runs (the partitions move), then the first one leaves.
            for _ in range(2):
                joined = await Resources.open(router_settings(stack_urls, res.settings.kafka_namespace), event_codec)
                workers = background_workers(joined)
                await workers.start()
                running.append(Replica(joined, workers))
            await asyncio.sleep(0.5)
            await running.pop(0).stop()

            async def all_assigned() -> bool:
                return (await placement(res, seed.account_id))["assigned"] == len(conversations)

            await wait_until(all_assigned, timeout=120)
            await monitor.stop()
            assert monitor.violations == [], f"over capacity: {monitor.violations[:5]}"
            await check_exactly_once(res, seed, conversations)
        finally:
            await res.close()


@pytest.mark.timeout(120)
async def test_readiness_waits_for_the_writer_and_the_feed_to_join_their_groups(stack_urls: StackUrls) -> None:
    async with replicas(stack_urls, count=1) as running:
        workers = running[0].workers
        writer, feed = (next(w for w in workers.workers if isinstance(w, kind)) for kind in (Writer, RoutingFeed))
        # Just started: neither holds partitions yet, so /readyz must not say ready.
        assert {writer.group, feed.group} <= set(workers.not_ready())

        async def joined() -> bool:
            return workers.not_ready() == []

        await wait_until(joined, timeout=60)


class CountingStreams(StreamPublisher):
    """The real publisher (frames reach Redis), counting its round trips."""

    def __init__(self, inner: StreamPublisher) -> None:
        super().__init__(inner.redis, inner.keys)
        self.single = 0
        self.pipelines: list[int] = []

    async def push_once(self, stream: str, dedupe_id: str, message: dict[str, Any]) -> str | None:
        self.single += 1
        return await super().push_once(stream, dedupe_id, message)

    async def push_many(self, pushes: Sequence[Push]) -> None:
        self.pipelines.append(len(pushes))
        await super().push_many(pushes)

    async def push_hints(self, pushes: Sequence[tuple[str, dict[str, Any]]], *, per_pipeline: int = 200) -> None:
        self.pipelines.append(len(pushes))
        await super().push_hints(pushes, per_pipeline=per_pipeline)


async def positions(res: Resources, contacts: dict[uuid.UUID, uuid.UUID]) -> dict[uuid.UUID, list[int]]:
    """Each waiting conversation's queue.position frames, in order, as its visitor's stream holds them."""
    found: dict[uuid.UUID, list[int]] = {}
    for conversation_id, contact_id in contacts.items():
        entries = await res.redis.xrange(res.keys.contact_stream(contact_id))
        frames = [json.loads(fields["data"]) for _, fields in entries]
        found[conversation_id] = [f["position"] for f in frames if f.get("type") == "queue.position"]
    return found


@pytest.mark.timeout(120)
async def test_queue_positions_go_out_in_one_pipeline_and_only_when_they_change(stack_urls: StackUrls) -> None:
    """Thirty visitors wait: each gets its position, all of them in one Redis round trip per tick (one push
    per visitor held the writer's loop for as long as the queue was long); when the first is placed, the
    others get their new position once, and a position that did not change is not sent again."""
    async with replicas(stack_urls, count=1) as running:
        res = running[0].res
        counting = CountingStreams(res.streams)
        res.streams = counting
        seed = await seed_account(res, capacities=[1])
        conversations = await create_conversations(res, seed, 30)
        async with cross_tenant_session(res.sessionmaker) as session:
            contacts = dict(
                (
                    await session.execute(
                        select(Conversation.id, Conversation.contact_id).where(Conversation.id.in_(conversations))
                    )
                ).all()
            )
        await publish_created(res, seed, conversations)

        async def everyone_told() -> bool:
            return all((await positions(res, contacts)).values())

        await wait_until(everyone_told, timeout=30)
        first = await positions(res, contacts)
        assert sorted(frames[-1] for frames in first.values()) == list(range(1, 31))
        assert counting.single == 0
        assert max(counting.pipelines) > 1  # the tick's frames went together

        await set_online(res, seed.account_id, seed.agent_ids[0], True)
        head = next(c for c, frames in first.items() if frames[-1] == 1)

        async def moved_up() -> bool:
            now = await positions(res, contacts)
            return all(now[c][-1] == first[c][-1] - 1 for c in contacts if c != head)

        await wait_until(moved_up, timeout=30)
        await asyncio.sleep(2.5)  # two more ticks: nothing changed, nothing sent
        settled = await positions(res, contacts)
        for conversation_id in contacts:
            if conversation_id != head:
                assert settled[conversation_id] == [first[conversation_id][-1], first[conversation_id][-1] - 1]
        assert counting.single == 0


class GatedStreams(StreamPublisher):
    """The real publisher whose pipelines wait at a gate until the test opens it (Redis slow to answer)."""

    def __init__(self, inner: StreamPublisher) -> None:
        super().__init__(inner.redis, inner.keys)
        self.gate = asyncio.Event()
        self.held = 0

    async def push_hints(self, pushes: Sequence[tuple[str, dict[str, Any]]], *, per_pipeline: int = 200) -> None:
        self.held += 1
        await self.gate.wait()
        await super().push_hints(pushes, per_pipeline=per_pipeline)


@pytest.mark.timeout(120)
async def test_decisions_do_not_wait_for_queue_position_frames(stack_urls: StackUrls) -> None:
    """Position frames held up (thousands waiting, a slow Redis): an agent coming online still gets the next
    conversation at once (the writer awaited every tick's frames before its next decision), and the frames
    go out when Redis answers, with the positions as they are then."""
    async with replicas(stack_urls, count=1) as running:
        res = running[0].res
        gated = GatedStreams(res.streams)
        res.streams = gated
        try:
            seed = await seed_account(res, capacities=[1])
            conversations = await create_conversations(res, seed, 5)
            async with cross_tenant_session(res.sessionmaker) as session:
                contacts = dict(
                    (
                        await session.execute(
                            select(Conversation.id, Conversation.contact_id).where(Conversation.id.in_(conversations))
                        )
                    ).all()
                )
            await publish_created(res, seed, conversations)

            async def queued_and_held() -> bool:
                return (await placement(res, seed.account_id))["queued"] == 5 and gated.held >= 1

            await wait_until(queued_and_held, timeout=30)
            await set_online(res, seed.account_id, seed.agent_ids[0], True)

            async def placed() -> bool:
                return (await placement(res, seed.account_id))["assigned"] == 1

            await wait_until(placed, timeout=10)
        finally:
            gated.gate.set()

        async with cross_tenant_session(res.sessionmaker) as session:
            taken = await session.scalar(
                select(Conversation.id).where(
                    Conversation.account_id == seed.account_id, Conversation.assignee_id.is_not(None)
                )
            )

        async def everyone_waiting_told() -> bool:
            found = await positions(res, contacts)
            return sorted(found[c][-1] for c in contacts if c != taken and found[c]) == [1, 2, 3, 4]

        await wait_until(everyone_waiting_told, timeout=30)


class GatedBus:
    """The real bus, whose publishing of the writer's own events waits at a gate (Kafka slow to acknowledge)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        self.gate.set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def publish_many(self, events: Any, headers: Any = ()) -> None:
        if ORIGIN_HEADER in list(headers):
            await self.gate.wait()
        await self.inner.publish_many(events, headers)


@pytest.mark.timeout(120)
async def test_a_writer_whose_events_wait_for_kafka_stops_after_a_couple_of_batches(stack_urls: StackUrls) -> None:
    """Committed events are published behind the writer, but at most a couple of batches ahead: when Kafka
    does not acknowledge, the writer stops deciding instead of piling up committed events (which the outbox
    relay would publish a second time after its grace period, doubling the load of a slow system); once Kafka
    answers, the rest is placed."""
    async with replicas(stack_urls, count=1) as running:
        res = running[0].res
        gated = GatedBus(res.bus)
        res.bus = gated  # type: ignore[assignment]
        try:
            seed = await seed_account(res, capacities=[100])
            await set_online(res, seed.account_id, seed.agent_ids[0], True)
            await publish_created(res, seed, await create_conversations(res, seed, 2))

            async def loaded() -> bool:  # the writer owns and holds the account
                return (await placement(res, seed.account_id))["assigned"] == 2

            await wait_until(loaded, timeout=30)
            gated.gate.clear()
            for _ in range(7):  # one poll, one batch each
                await publish_created(res, seed, await create_conversations(res, seed, 2))
                await asyncio.sleep(0.7)
            await asyncio.sleep(2)
            held_back = (await placement(res, seed.account_id))["assigned"]
            # The batch being published, two queued, the one whose hand-over waits: seven rounds would all be
            # committed if the writer did not wait.
            assert 2 < held_back <= 2 + 2 * 4, held_back
        finally:
            gated.gate.set()

        async def all_placed() -> bool:
            return (await placement(res, seed.account_id))["assigned"] == 16

        await wait_until(all_placed, timeout=60)
