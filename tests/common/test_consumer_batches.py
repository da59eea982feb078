"""EventConsumer on a real broker: a poll's run of batchable records reaches the batch handler in one call,
other records stay barriers handled alone and in order, a failing batch is handled again record by record,
a gate skips records undecoded (and commits past them), and a consumer is ready only once it joined its
group and holds its partitions (what /readyz reports)."""

from __future__ import annotations

import asyncio
import itertools
import uuid

import pytest
from aiokafka import ConsumerRecord
from switchboard_common.domain.events import (
    ConversationAssigned,
    ConversationAssignedPayload,
    Event,
    MessageCreated,
    MessageCreatedPayload,
    parse_event,
    serialize_event,
    utcnow,
)
from switchboard_common.infra.bus import LOOP_SLICE, EventBus, EventConsumer, ensure_topics
from switchboard_common.infra.service import BackgroundWorkers
from switchboard_common.infra.settings import CommonSettings
from switchboard_devstack.servers import StackUrls

ACCOUNT = uuid.uuid4()


class PlainCodec:
    """Events as their JSON, unsealed: what the consumer does with records is under test, not the sealing."""

    def parse(self, raw: bytes) -> Event:
        return parse_event(raw)

    async def seal(self, event: Event) -> bytes:
        return serialize_event(event)

    async def open(self, raw: bytes) -> bytes:
        return raw

    def record_key(self, event: Event) -> bytes:
        return event.partition_key()


def settings(urls: StackUrls) -> CommonSettings:
    return CommonSettings(
        environment="test",
        database_url=urls.database_url,
        redis_url=urls.redis_url,
        kafka_bootstrap_servers=urls.kafka_bootstrap_servers,
        kafka_namespace=f"cb{uuid.uuid4().hex[:8]}",
        kafka_topic_partitions=1,
    )


def message(conversation: uuid.UUID, n: int) -> MessageCreated:
    contact = uuid.uuid4()
    return MessageCreated(
        tenant_id=ACCOUNT,
        conversation_id=conversation,
        payload=MessageCreatedPayload(
            message_id=uuid.uuid4(),
            inbox_id=uuid.uuid4(),
            contact_id=contact,
            channel="web",
            direction="inbound",
            sender_type="contact",
            sender_id=contact,
            text=f"m{n}",
            created_at=utcnow(),
        ),
    )


def assigned(conversation: uuid.UUID) -> ConversationAssigned:
    return ConversationAssigned(
        tenant_id=ACCOUNT,
        conversation_id=conversation,
        payload=ConversationAssignedPayload(agent_id=uuid.uuid4(), inbox_id=uuid.uuid4(), strategy="manual"),
    )


async def consume(
    urls: StackUrls, events: list[Event], *, fail_first_batch: bool = False
) -> tuple[list[tuple[str, list[str]]], EventConsumer]:
    """Publishes ``events`` first, then consumes them: (calls in order, the consumer)."""
    config = settings(urls)
    await ensure_topics(config)
    bus = EventBus(config, PlainCodec())
    await bus.start()
    calls: list[tuple[str, list[str]]] = []
    failed = asyncio.Event()
    done = asyncio.Event()
    seen: set[uuid.UUID] = set()

    def note(kind: str, batch: list[Event]) -> None:
        calls.append((kind, [str(e.event_id) for e in batch]))
        seen.update(e.event_id for e in batch)
        if {e.event_id for e in events} <= seen:
            done.set()

    async def one(event: Event, _record: object) -> None:
        note("one", [event])

    async def batch(items: list[tuple[Event, object]]) -> None:
        if fail_first_batch and not failed.is_set():
            failed.set()
            raise RuntimeError("the batch fails once")
        note("batch", [e for e, _r in items])

    try:
        await bus.publish_many(events)
        consumer = EventConsumer(
            config,
            group="batches",
            topics=["conversations"],
            handler=one,
            bus=bus,
            batch_handler=batch,
            batch_types=frozenset({"message.created"}),
        )
        assert not consumer.ready
        await consumer.start()
        try:
            await asyncio.wait_for(done.wait(), 60)
            assert consumer.ready  # joined, holds its partition, has fetched
        finally:
            await consumer.stop()
        assert not consumer.ready
    finally:
        await bus.stop()
    return calls, consumer


@pytest.mark.timeout(120)
async def test_a_poll_is_handled_in_runs_with_barriers_in_order(stack_urls: StackUrls) -> None:
    conversation = uuid.uuid4()
    events: list[Event] = [message(conversation, 0), message(conversation, 1), assigned(conversation)]
    events += [message(conversation, n) for n in range(2, 5)]
    calls, _ = await consume(stack_urls, events)
    ids = [str(e.event_id) for e in events]
    assert [i for _kind, batch in calls for i in batch] == ids  # every record once, in order
    assert ("one", [ids[2]]) in calls  # the assignment alone, between the runs around it
    assert all(kind == "batch" for kind, batch in calls if ids[2] not in batch)
    assert len(calls) < len(ids)  # records of one poll shared a call


@pytest.mark.timeout(120)
async def test_a_failing_batch_is_handled_again_one_by_one(stack_urls: StackUrls) -> None:
    conversation = uuid.uuid4()
    events: list[Event] = [message(conversation, n) for n in range(4)]
    calls, _ = await consume(stack_urls, events, fail_first_batch=True)
    ids = [str(e.event_id) for e in events]
    assert [i for _kind, batch in calls for i in batch] == ids
    assert calls[0][0] == "one"  # after the failure, the failed run went record by record


class CountingCodec(PlainCodec):
    def __init__(self) -> None:
        self.opened: list[bytes] = []

    async def open(self, raw: bytes) -> bytes:
        self.opened.append(raw)
        return raw


@pytest.mark.timeout(120)
async def test_the_gate_skips_records_undecoded_and_commits_past_them(stack_urls: StackUrls) -> None:
    wanted, other = uuid.uuid4(), uuid.uuid4()
    events: list[Event] = [message(other, 0), message(wanted, 1), message(other, 2), message(wanted, 3)]
    events.append(message(other, 4))  # the poll ends with a gated-out record: its offset is committed too
    config = settings(stack_urls)
    await ensure_topics(config)
    codec = CountingCodec()
    bus = EventBus(config, codec)
    await bus.start()
    handled: list[uuid.UUID] = []
    gate_calls: list[list[bytes]] = []
    done = asyncio.Event()

    async def gate(records: list[ConsumerRecord]) -> list[bool]:
        gate_calls.append([r.key for r in records])
        return [r.key == str(wanted).encode() for r in records]

    async def handle(event: Event, _record: object) -> None:
        handled.append(event.event_id)
        if len(handled) == 2:
            done.set()

    try:
        await bus.publish_many(events)
        consumer = EventConsumer(config, group="gated", topics=["conversations"], handler=handle, bus=bus, gate=gate)
        await consumer.start()
        try:
            await asyncio.wait_for(done.wait(), 60)
            await asyncio.sleep(0.5)  # any record wrongly let through would arrive meanwhile
        finally:
            await consumer.stop()
        assert handled == [events[1].event_id, events[3].event_id]
        assert len(codec.opened) == 2  # the other conversation's records were never decoded
        assert all(set(keys) <= {str(wanted).encode(), str(other).encode()} for keys in gate_calls)
        # A second consumer of the group starts after the last record: nothing is handed out again.
        again: list[uuid.UUID] = []

        async def record_again(event: Event, _record: object) -> None:
            again.append(event.event_id)

        second = EventConsumer(config, group="gated", topics=["conversations"], handler=record_again, bus=bus)
        await second.start()
        try:
            for _ in range(100):
                if second.ready:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
        finally:
            await second.stop()
        assert again == []
    finally:
        await bus.stop()


@pytest.mark.timeout(120)
async def test_a_failing_gate_lets_every_record_through(stack_urls: StackUrls) -> None:
    conversation = uuid.uuid4()
    events: list[Event] = [message(conversation, n) for n in range(3)]
    config = settings(stack_urls)
    await ensure_topics(config)
    bus = EventBus(config, PlainCodec())
    await bus.start()
    handled: list[uuid.UUID] = []
    done = asyncio.Event()

    async def broken_gate(records: list[ConsumerRecord]) -> list[bool]:
        raise ValueError("a bug in the gate")

    async def handle(event: Event, _record: object) -> None:
        handled.append(event.event_id)
        if len(handled) == len(events):
            done.set()

    try:
        await bus.publish_many(events)
        consumer = EventConsumer(
            config, group="broken-gate", topics=["conversations"], handler=handle, bus=bus, gate=broken_gate
        )
        await consumer.start()
        try:
            await asyncio.wait_for(done.wait(), 60)  # the gate only saves work: nothing is lost when it fails
        finally:
            await consumer.stop()
        assert handled == [e.event_id for e in events]
    finally:
        await bus.stop()


class Worker:
    def __init__(self, ready: bool, role: str = "shared") -> None:
        self.ready = ready
        self.role = role
        self.group = f"group-{role}-{ready}"

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


async def test_workers_are_ready_when_every_consumer_is_and_roles_select_workers() -> None:
    joining, joined = Worker(False, "ingest"), Worker(True, "outbound")
    workers = BackgroundWorkers([joining, joined, Worker(True)])
    assert len(workers.not_ready()) == 3  # not started yet
    await workers.start()
    assert workers.not_ready() == [joining.group]
    joining.ready = True
    assert workers.not_ready() == []
    only_outbound = workers.select(["outbound"])
    assert joining not in only_outbound.workers and joined in only_outbound.workers
    assert len(only_outbound.workers) == 2  # the shared worker goes with every role
    assert workers.select(["all"]) is workers


class TallyCodec(PlainCodec):
    """Counts the events parsed."""

    def __init__(self) -> None:
        self.parsed = 0

    def parse(self, raw: bytes) -> Event:
        self.parsed += 1
        return super().parse(raw)


@pytest.mark.timeout(120)
async def test_parsing_a_long_run_lets_other_tasks_run(stack_urls: StackUrls) -> None:
    """Decrypting and parsing never suspend: a batch handler's run of hundreds of records is parsed letting the
    event loop go every LOOP_SLICE records, so a task sharing it (the router's writer) waits for no more than a
    slice. Every event still arrives, in order."""
    config = settings(stack_urls)
    await ensure_topics(config)
    codec = TallyCodec()
    bus = EventBus(config, codec)
    await bus.start()
    turns: list[int] = []

    async def other_task() -> None:
        while True:
            turns.append(codec.parsed)
            await asyncio.sleep(0)

    conversation = uuid.uuid4()
    events: list[Event] = [message(conversation, n) for n in range(LOOP_SLICE * 4 + 3)]
    received: list[Event] = []
    done = asyncio.Event()

    async def batch(items: list[tuple[Event, object]]) -> None:
        received.extend(e for e, _r in items)
        if len(received) >= len(events):
            done.set()

    async def one(event: Event, _record: object) -> None:
        received.append(event)

    probe = asyncio.create_task(other_task())
    consumer = EventConsumer(
        config,
        group="slices",
        topics=["conversations"],
        handler=one,
        bus=bus,
        batch_handler=batch,
        batch_types=frozenset({"message.created"}),
    )
    try:
        await bus.publish_many(events)
        await consumer.start()
        await asyncio.wait_for(done.wait(), 60)
    finally:
        probe.cancel()
        await consumer.stop()
        await bus.stop()
    turns.append(codec.parsed)
    assert [e.event_id for e in received] == [e.event_id for e in events]
    assert max(b - a for a, b in itertools.pairwise(turns)) <= LOOP_SLICE, turns


class SealTally(PlainCodec):
    """Counts the events sealed."""

    def __init__(self) -> None:
        self.sealed = 0

    async def seal(self, event: Event) -> bytes:
        self.sealed += 1
        return await super().seal(event)


@pytest.mark.timeout(120)
async def test_publishing_a_long_batch_lets_other_tasks_run(stack_urls: StackUrls) -> None:
    """Sealing events and handing them to the producer never suspend: a batch of hundreds (the router's writer
    publishing a drain's decisions) lets the event loop go every LOOP_SLICE events, so a task sharing it (the
    writer placing the next conversation) waits for no more than a slice. Every event is sealed and sent."""
    config = settings(stack_urls)
    await ensure_topics(config)
    codec = SealTally()
    bus = EventBus(config, codec)
    await bus.start()
    turns: list[int] = []

    async def other_task() -> None:
        while True:
            turns.append(codec.sealed)
            await asyncio.sleep(0)

    conversation = uuid.uuid4()
    events: list[Event] = [message(conversation, n) for n in range(LOOP_SLICE * 4 + 3)]
    probe = asyncio.create_task(other_task())
    await asyncio.sleep(0)
    try:
        await bus.publish_many(events)
    finally:
        probe.cancel()
        await bus.stop()
    turns.append(codec.sealed)
    assert codec.sealed == len(events)
    assert max(b - a for a, b in itertools.pairwise(turns)) <= LOOP_SLICE, turns
