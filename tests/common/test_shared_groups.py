"""Consumers of one topic in one process share a consumer group and a fetch loop
(``switchboard_common.infra.bus.SharedConsumerGroup``), on a real broker: each member gets only the event types
its filter wants, a record several want is decoded once and one nobody wants never; a member stuck on a store
that is down holds the commit but not the other members; and the shared group starts where the groups it
replaces had committed (the lowest of them), never from the beginning (``adopt_offsets``)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import REGISTRY
from switchboard_common.domain.events import ConversationStatusChanged, ConversationStatusPayload, Event
from switchboard_common.infra.bus import (
    EventBus,
    EventConsumer,
    EventFilter,
    SharedConsumerGroup,
    adopt_offsets,
    ensure_topics,
    kafka_connection,
    share_groups,
    topic_partitions,
)
from switchboard_common.infra.settings import CommonSettings
from switchboard_devstack.servers import StackUrls

from tests.common.test_consumer_batches import ACCOUNT, PlainCodec, assigned, message, settings

MESSAGES = frozenset({"message.created"})
ASSIGNMENTS = frozenset({"conversation.assigned"})


class CountingCodec(PlainCodec):
    """Counts what is decoded, by record value."""

    def __init__(self) -> None:
        self.parsed: list[bytes] = []

    def parse(self, raw: bytes) -> Event:
        self.parsed.append(raw)
        return super().parse(raw)


async def committed(config: CommonSettings, group: str) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(**kafka_connection(config))
    await admin.start()
    try:
        partitions = await topic_partitions(admin, [config.topic("conversations"), config.topic("agents")])
        offsets = await admin.list_consumer_group_offsets(group, partitions=partitions)
    finally:
        await admin.close()
    return {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}


async def commit_as(config: CommonSettings, group: str, offsets: dict[TopicPartition, int]) -> None:
    """What a group of the old layout left behind: its committed offsets."""
    consumer = AIOKafkaConsumer(**kafka_connection(config), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


async def until(condition: Any, seconds: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.2)


def member(config: CommonSettings, bus: EventBus, name: str, seen: list[tuple[str, Event]], **options: Any) -> Any:
    async def handle(event: Event, _record: object) -> None:
        seen.append((name, event))

    return EventConsumer(config, group=name, topics=["conversations"], handler=handle, bus=bus, **options)


def test_consumers_of_the_conversations_topic_become_one_group_per_process() -> None:
    config = CommonSettings(environment="test", kafka_namespace="share")
    bus: Any = None

    async def ignore(_event: Any, _record: Any) -> None:
        return None

    def consumer(group: str, topics: list[str], **options: Any) -> EventConsumer:
        return EventConsumer(config, group=group, topics=topics, handler=ignore, bus=bus, **options)

    hot = consumer("hot", ["conversations", "agents"])
    slow = consumer("slow", ["conversations"], background=True)
    slow.role = "outbound"
    broadcast = consumer("everyone", ["conversations"], broadcast=True)
    inbound = consumer("ingest", ["inbound"])
    other = object()
    workers = share_groups([other, inbound, hot, broadcast, slow], "svc")
    assert workers[0] is other and workers[1] is inbound and workers[3] is broadcast  # kept, in order
    shared = workers[2]
    assert isinstance(shared, SharedConsumerGroup) and len(workers) == 4
    assert shared.group == "share-svc-outbound-conversations"  # named by service and the members' roles
    assert shared.members == [hot, slow]
    assert shared.replaces == {
        "share-hot": frozenset({"share.conversations", "share.agents"}),
        "share-slow": frozenset({"share.conversations"}),
    }
    assert shared.topics == ["share.agents", "share.conversations"]
    # Hot if one member is: the agent-facing path does not wait on the background member's pace.
    assert shared.poll_interval == 0 and shared.fetch_max_wait_ms == hot.fetch_max_wait_ms
    # A lone consumer keeps its own group (nothing to share, nothing to migrate).
    assert share_groups([inbound, hot], "svc") == [inbound, hot]


@pytest.mark.timeout(120)
async def test_each_member_gets_its_types_and_a_record_is_decoded_once(stack_urls: StackUrls) -> None:
    config = settings(stack_urls)
    await ensure_topics(config)
    codec = CountingCodec()
    bus = EventBus(config, codec)
    await bus.start()
    conversation = uuid.uuid4()
    events: list[Event] = [message(conversation, 0), assigned(conversation), message(conversation, 1)]
    unwanted = ConversationStatusChanged(
        tenant_id=ACCOUNT,
        conversation_id=conversation,
        payload=ConversationStatusPayload(inbox_id=uuid.uuid4(), status="resolved"),
    )
    seen: list[tuple[str, Event]] = []
    members = [
        member(config, bus, "timeline", seen, accepts=EventFilter(types=MESSAGES | ASSIGNMENTS)),
        member(config, bus, "reports", seen, accepts=EventFilter(types=MESSAGES)),
        member(config, bus, "bot", seen, accepts=EventFilter(types=MESSAGES, directions=frozenset({"outbound"}))),
    ]
    (group,) = share_groups(members, "svc")
    assert isinstance(group, SharedConsumerGroup)
    try:
        await bus.publish_many([*events, unwanted])
        await group.start()
        await until(lambda: _true(len(seen) >= 5))
        await asyncio.sleep(0.5)  # anything wrongly let through would arrive meanwhile
        got = {name: [e.event_id for n, e in seen if n == name] for name in ("timeline", "reports", "bot")}
        assert got["timeline"] == [e.event_id for e in events]  # in order, all its types
        assert got["reports"] == [events[0].event_id, events[2].event_id]
        assert got["bot"] == []  # inbound messages only: its filter turned them away from the headers
        # Three records decoded, each once although two members handled the messages; the status change no
        # member wants was never decoded, and is committed past like the rest.
        assert len(codec.parsed) == 3
        assert len(set(codec.parsed)) == 3
        assert not any(b"status_changed" in raw for raw in codec.parsed)
        end = {TopicPartition(config.topic("conversations"), 0): 4}
        await until(lambda: _equal(committed(config, group.group), end))
    finally:
        await group.stop()
        await bus.stop()


@pytest.mark.timeout(120)
async def test_a_member_waiting_on_a_store_holds_the_commit_not_the_others(stack_urls: StackUrls) -> None:
    config = settings(stack_urls)
    await ensure_topics(config)
    bus = EventBus(config, PlainCodec())
    await bus.start()
    conversation = uuid.uuid4()
    events: list[Event] = [message(conversation, n) for n in range(6)]
    stuck_on = events[2].event_id
    store_back = asyncio.Event()
    seen: list[tuple[str, Event]] = []

    async def flaky(event: Event, _record: object) -> None:
        if event.event_id == stuck_on and not store_back.is_set():
            raise ConnectionRefusedError("the database is down")  # transient: retried, never skipped
        seen.append(("flaky", event))

    members = [
        member(config, bus, "steady", seen),
        EventConsumer(config, group="flaky", topics=["conversations"], handler=flaky, bus=bus, retry_base_seconds=0.05),
    ]
    (group,) = share_groups(members, "svc")
    tp = TopicPartition(config.topic("conversations"), 0)
    try:
        await bus.publish_many(events)
        await group.start()
        # The steady member handled everything while the other waits on its third record.
        await until(lambda: _true(len([n for n, _e in seen if n == "steady"]) == 6))
        assert [e.event_id for n, e in seen if n == "flaky"] == [e.event_id for e in events[:2]]
        await until(lambda: _equal(committed(config, group.group), {tp: 2}))  # what both finished
        await asyncio.sleep(1.0)
        assert await committed(config, group.group) == {tp: 2}  # not past the record still in hand
        store_back.set()
        await until(lambda: _equal(committed(config, group.group), {tp: 6}))
        assert [e.event_id for n, e in seen if n == "flaky"] == [e.event_id for e in events]  # nothing skipped
    finally:
        await group.stop()
        await bus.stop()


@pytest.mark.timeout(120)
async def test_the_shared_group_starts_where_the_groups_it_replaces_stood(stack_urls: StackUrls) -> None:
    config = settings(stack_urls)
    await ensure_topics(config)
    bus = EventBus(config, PlainCodec())
    await bus.start()
    conversation = uuid.uuid4()
    events: list[Event] = [message(conversation, n) for n in range(8)]
    tp = TopicPartition(config.topic("conversations"), 0)
    seen: list[tuple[str, Event]] = []
    members = [member(config, bus, "ahead", seen), member(config, bus, "behind", seen)]
    (group,) = share_groups(members, "svc")
    assert isinstance(group, SharedConsumerGroup)
    try:
        await bus.publish_many(events)
        # The old layout: each consumer in its own group, one further on than the other.
        await commit_as(config, config.consumer_group("ahead"), {tp: 5})
        await commit_as(config, config.consumer_group("behind"), {tp: 3})
        await group.start()
        await until(lambda: _true(len(seen) >= 10))
        await asyncio.sleep(0.5)
        later = [e.event_id for e in events[3:]]
        # From the lowest commit: the one behind skips nothing, the one ahead sees two records again (its
        # idempotency absorbs them), and nothing before is replayed.
        assert [e.event_id for n, e in seen if n == "behind"] == later
        assert [e.event_id for n, e in seen if n == "ahead"] == later
        await until(lambda: _equal(committed(config, group.group), {tp: 8}))
    finally:
        await group.stop()
    try:
        # Run again at the next start: the group has its own commit now, so nothing moves it back.
        assert await adopt_offsets(config, group.group, group.replaces) == {}
        assert await committed(config, group.group) == {tp: 8}
    finally:
        await bus.stop()


async def test_adoption_takes_the_lowest_commit_per_partition_of_the_groups_reading_it(stack_urls: StackUrls) -> None:
    config = settings(stack_urls).model_copy(update={"kafka_topic_partitions": 3})
    await ensure_topics(config)
    conversations, agents = config.topic("conversations"), config.topic("agents")
    c0, c1, c2 = (TopicPartition(conversations, p) for p in range(3))
    a0 = TopicPartition(agents, 0)
    old_a, old_b, old_c = (config.consumer_group(name) for name in ("old-a", "old-b", "old-c"))
    await commit_as(config, old_a, {c0: 10, c1: 4, a0: 7})
    await commit_as(config, old_b, {c0: 6, c1: 9})
    # old-c never read the agents topic: whatever it may have committed there is not its position.
    await commit_as(config, old_c, {a0: 1})
    replaced = {
        old_a: frozenset({conversations, agents}),
        old_b: frozenset({conversations}),
        old_c: frozenset({conversations}),
    }
    merged = config.consumer_group("merged")
    adopted = await adopt_offsets(config, merged, replaced)
    assert adopted == {c0: 6, c1: 4, a0: 7}  # c2: none committed it, so it starts as a new group does
    assert await committed(config, merged) == adopted
    assert c2 not in adopted


async def _true(value: bool) -> bool:
    return value


async def _equal(found: Any, expected: Any) -> bool:
    return bool(await found == expected)


@pytest.mark.timeout(180)
async def test_partitions_moving_between_replicas_skip_nothing(stack_urls: StackUrls) -> None:
    """Two processes of the same service: a replica joining takes partitions from the first (whose members drop
    what they held of them, committed up to what all finished), and the first leaving hands them all back;
    every member sees every record at least once across the two."""
    config = settings(stack_urls).model_copy(update={"kafka_topic_partitions": 4})
    await ensure_topics(config)
    bus = EventBus(config, PlainCodec())
    await bus.start()
    seen: list[tuple[str, Event]] = []

    def replica() -> SharedConsumerGroup:
        members = [
            member(config, bus, "timeline", seen),
            member(config, bus, "reports", seen, accepts=EventFilter(types=MESSAGES), background=True),
        ]
        (group,) = share_groups(members, "svc")
        assert isinstance(group, SharedConsumerGroup)
        return group

    def wave() -> list[Event]:
        return [message(uuid.uuid4(), n) for n in range(12)]  # a conversation each: spread over the partitions

    def all_seen(events: list[Event]) -> Any:
        async def check() -> bool:
            return all(
                {e.event_id for e in events} <= {e.event_id for n, e in seen if n == name}
                for name in ("timeline", "reports")
            )

        return check

    first, second = replica(), replica()
    assert first.group == second.group
    published: list[Event] = []
    try:
        await first.start()
        for step in range(3):
            events = wave()
            published += events
            await bus.publish_many(events)
            if step == 0:
                await until(all_seen(published))
                await second.start()  # the group rebalances: some partitions move to it
                await until(lambda: _true(first.ready and second.ready))
            elif step == 1:
                await until(all_seen(published))
                await first.stop()  # everything moves to the second
        await until(all_seen(published), 90)
        # Committed to the end of every partition: the sum of the ends is every record published.
        await until(lambda: _equal(_total(committed(config, second.group)), len(published)))
    finally:
        await first.stop()
        await second.stop()
        await bus.stop()


async def _total(offsets: Any) -> int:
    return sum((await offsets).values())


@pytest.mark.timeout(120)
async def test_each_member_reports_its_lag_under_its_own_name_from_the_start(stack_urls: StackUrls) -> None:
    """Operators' lag series keep the old group names, and a member that has finished nothing yet (a process
    just restarted, a quiet topic) is reported where the group's fetch begins, not left out."""
    config = settings(stack_urls)
    await ensure_topics(config)
    bus = EventBus(config, PlainCodec())
    seen: list[tuple[str, Event]] = []
    members = [member(config, bus, "timeline", seen), member(config, bus, "reports", seen)]
    (group,) = share_groups(members, "svc")
    topic = config.topic("conversations")

    async def reported() -> bool:
        return all(
            REGISTRY.get_sample_value(
                "switchboard_kafka_consumer_lag", {"group": m.group, "topic": topic, "partition": "0"}
            )
            == 0
            for m in members
        )

    try:
        await group.start()
        await until(reported, 60)
        assert seen == []
    finally:
        await group.stop()
