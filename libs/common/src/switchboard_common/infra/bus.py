"""The Kafka bus on aiokafka.

* Producer: ``acks="all"``, partition key = conversation id (so one conversation is handled in order).
* Consumers: manual commits, only after the handler finished; infrastructure errors (a database or cache
  that is down) are retried without end because skipping would lose the event; any other failure is retried
  a few times and then parked on the dead-letter topic with the error in its headers, so one poison event
  cannot stall a partition.
* Shared groups: a process's consumers of the conversations topic are members of one group with one fetch loop
  (:class:`SharedConsumerGroup`), each handling the records its filter wants at its own pace; the group starts
  from the committed offsets of the groups it replaced (:func:`adopt_offsets`).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from switchboard_common.infra import metrics, tracing
from switchboard_common.infra.errors import error_location
from switchboard_common.infra.settings import CommonSettings

log = structlog.get_logger(__name__)

# Logical topic names; the physical name is "{KAFKA_NAMESPACE}.{name}" (see CommonSettings.topic).
CONVERSATIONS_TOPIC = "conversations"
AGENTS_TOPIC = "agents"
ROUTING_TOPIC = "routing"
INBOUND_TOPIC = "inbound"
DEAD_LETTER_TOPIC = "dead-letter"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    retention_ms: int
    description: str


TOPIC_SPECS: tuple[TopicSpec, ...] = (
    TopicSpec(CONVERSATIONS_TOPIC, 7 * 24 * 3600 * 1000, "every conversation-scoped event, key = conversation id"),
    TopicSpec(INBOUND_TOPIC, 7 * 24 * 3600 * 1000, "channel messages as received, key = inbox and customer"),
    TopicSpec(AGENTS_TOPIC, 24 * 3600 * 1000, "agent presence and capacity changes, key = tenant id"),
    TopicSpec(
        ROUTING_TOPIC,
        24 * 3600 * 1000,
        "routing commands, agent presence and forwarded conversation events, key = tenant id (one writer each)",
    ),
    TopicSpec(DEAD_LETTER_TOPIC, 30 * 24 * 3600 * 1000, "events that failed repeatedly, with the error in headers"),
)


class UnknownEventType(ValueError):
    """An event from a newer producer: consumers skip it rather than dead-letter it."""


class BusEvent(Protocol):
    """What the bus needs of an event (the domain's envelope, ``switchboard_common.domain.events.Event``)."""

    @property
    def event_id(self) -> Any: ...
    @property
    def type(self) -> str: ...
    @property
    def schema_version(self) -> int: ...
    @property
    def payload(self) -> Any: ...
    @property
    def topic_name(self) -> str: ...
    def partition_key(self) -> bytes: ...
    def model_dump_json(self) -> str: ...


class EventCodec(Protocol):
    """How events become bytes and back. The bus knows no event type: the domain provides the codec
    (``switchboard_common.domain.encryption.shredding.SubjectKeys``, which also seals personal fields), and each
    service's lifespan plugs it in through ``Resources.open(settings, event_codec)``."""

    def parse(self, raw: bytes) -> Any:
        """An event from plain JSON (``model_dump_json``, as the outbox keeps it); raises
        :class:`UnknownEventType` for a type this build does not know."""
        ...

    async def seal(self, event: Any) -> bytes:
        """The record value published to Kafka."""
        ...

    async def open(self, raw: bytes) -> bytes:
        """A record value back to plain JSON (may wait on a store: transient errors are retried)."""
        ...

    def record_key(self, event: Any) -> bytes:
        """The record's Kafka key (pseudonymous where the event's partition names a person)."""
        ...


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OSError, ConnectionError, asyncio.TimeoutError, KafkaError)


def _transient_types() -> tuple[type[BaseException], ...]:
    """Errors that mean 'a dependency is down': retried until it is back, never dead-lettered."""
    types: list[type[BaseException]] = list(TRANSIENT_ERRORS)
    with contextlib.suppress(ImportError):
        import redis.exceptions

        types += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.BusyLoadingError]
    with contextlib.suppress(ImportError):
        import sqlalchemy.exc

        types += [sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, sqlalchemy.exc.DisconnectionError]
    with contextlib.suppress(ImportError):
        import asyncpg

        types += [asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError, asyncpg.InterfaceError]
    return tuple(types)


def is_transient(exc: BaseException) -> bool:
    types = _transient_types()
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, types):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def kafka_connection(settings: CommonSettings) -> dict[str, Any]:
    """How every client of ours (producer, consumers, admin) reaches the brokers: the bootstrap servers and the
    transport security of the settings (TLS with an optional CA and client certificate; SASL SCRAM or PLAIN)."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_security_protocol.endswith("SSL"):
        options["ssl_context"] = create_ssl_context(
            cafile=settings.kafka_ssl_cafile or None,
            certfile=settings.kafka_ssl_certfile or None,
            keyfile=settings.kafka_ssl_keyfile or None,
        )
    if settings.kafka_security_protocol.startswith("SASL_"):
        assert settings.kafka_sasl_password is not None  # the settings refuse SASL without it
        options |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": settings.kafka_sasl_username,
            "sasl_plain_password": settings.kafka_sasl_password.get_secret_value(),
        }
    return options


async def ensure_topics(settings: CommonSettings, extra: Iterable[str] = ()) -> None:
    """Create the topics if missing (local and test brokers; production declares them as KafkaTopic)."""
    admin = AIOKafkaAdminClient(**kafka_connection(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [settings.topic(spec.name) for spec in TOPIC_SPECS] + [settings.topic(name) for name in extra]
        missing = [
            NewTopic(name, num_partitions=settings.kafka_topic_partitions, replication_factor=1)
            for name in wanted
            if name not in existing
        ]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
    finally:
        await admin.close()


class EventBus:
    """Publishes events; ``publish`` returns once the broker acknowledged with acks=all."""

    def __init__(self, settings: CommonSettings, codec: EventCodec) -> None:
        self.settings = settings
        # Crypto-shredding (the domain's codec): personal fields are sealed with their subject's key on publish
        # and opened before handlers run.
        self.codec = codec
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            **kafka_connection(self.settings),
            acks="all",
            enable_idempotence=self.settings.kafka_enable_idempotence,
            linger_ms=0,
            request_timeout_ms=15000,
            client_id=self.settings.service_name,
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    @property
    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("EventBus is not started")
        return self._producer

    async def publish(self, event: BusEvent, headers: Sequence[tuple[str, bytes]] = ()) -> None:
        await self.publish_many([event], headers)

    async def publish_many(self, events: Sequence[BusEvent], headers: Sequence[tuple[str, bytes]] = ()) -> None:
        """Send in order and wait for every acknowledgement; one producer keeps per-key order. Sealing and
        handing records to the producer never suspend: the loop is let go every :data:`LOOP_SLICE` events, so a
        task sharing it (the router's writer, behind its own publisher) waits for no more than a slice."""
        futures = []
        # W3C trace context (traceparent) of the request or handler publishing: consumers continue it.
        trace_headers = [] if any(k == "traceparent" for k, _ in headers) else tracing.inject_headers()
        for index, event in enumerate(events, 1):
            if index % LOOP_SLICE == 0:
                await asyncio.sleep(0)
            record_headers = [*routing_headers(event), *headers, *trace_headers]
            futures.append(
                await self.producer.send(
                    self.settings.topic(event.topic_name),
                    value=await self.codec.seal(event),
                    key=self.codec.record_key(event),
                    headers=record_headers,
                )
            )
        for future in futures:
            await future

    async def publish_raw(self, topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]) -> None:
        await self.producer.send_and_wait(topic, value=value, key=key, headers=headers)


# Non-personal routing attributes published as record headers, so consumers can skip what is not theirs
# without decrypting and parsing it (see EventFilter and EventConsumer's ``gate``).
# ``conversation_status`` is the status a customer message found its conversation in (None: unknown, no header).
ROUTING_HEADER_FIELDS = ("channel", "direction", "conversation_status", "inbox_id")
# The event's account (``tenant_id``), as the header ``account_id``.
ACCOUNT_HEADER = "account_id"


def routing_headers(event: BusEvent) -> list[tuple[str, bytes]]:
    headers = [("event_type", event.type.encode()), ("schema_version", str(event.schema_version).encode())]
    account = getattr(event, "tenant_id", None)
    if account is not None:
        headers.append((ACCOUNT_HEADER, str(account).encode()))
    for name in ROUTING_HEADER_FIELDS:
        value = getattr(event.payload, name, None)
        if isinstance(value, str | uuid.UUID):
            headers.append((name, str(value).encode()))
    return headers


def header(record: ConsumerRecord, name: str) -> str | None:
    """A record header's value as text (None without it)."""
    for key, value in record.headers or ():
        if key == name:
            return bytes(value).decode()
    return None


@dataclass(frozen=True)
class EventFilter:
    """The records a consumer wants, read from headers before any decryption or parsing. A missing header
    never filters (records published before the header existed still reach the handler, which decides)."""

    types: frozenset[str] | None = None
    channels: frozenset[str] | None = None
    directions: frozenset[str] | None = None
    statuses: frozenset[str] | None = None

    def wants(self, headers: Sequence[tuple[str, bytes]] | None) -> bool:
        return self.wants_values(dict(headers or ()))

    def wants_values(self, values: dict[str, bytes]) -> bool:
        """As :meth:`wants`, from a record's headers already in a dict (a shared group reads them once for
        all its consumers)."""
        for name, allowed in (
            ("event_type", self.types),
            ("channel", self.channels),
            ("direction", self.directions),
            ("conversation_status", self.statuses),
        ):
            raw = values.get(name)
            if allowed is not None and raw is not None and raw.decode() not in allowed:
                return False
        return True


Handler = Callable[[Any, ConsumerRecord], Awaitable[None]]
WorkerT = TypeVar("WorkerT")
# Given a poll's records that pass the filter, whether each is worth decoding (see EventConsumer ``gate``).
RecordGate = Callable[[list[ConsumerRecord]], Awaitable[list[bool]]]
# Handles a run of consecutive records of one poll at once (one statement, one pipeline); see EventConsumer.
BatchHandler = Callable[[list[tuple[Any, ConsumerRecord]]], Awaitable[None]]
LAG_REPORT_SECONDS = 5.0
# Records a batch handler's run parses before the event loop is let go: decrypting and validating do not suspend,
# and the router's writer shares its loop with its consumers.
LOOP_SLICE = 50
PARTITION_MOVED_ERRORS = frozenset(
    {"IllegalGenerationError", "IllegalStateError", "CommitFailedError", "UnknownMemberIdError"}
)


def group_consumer(
    settings: CommonSettings,
    group: str,
    *,
    fetch_max_wait_ms: int | None = None,
    max_poll_records: int = 500,
    session_timeout_ms: int = 10000,
    auto_offset_reset: str = "earliest",
    **options: Any,
) -> AIOKafkaConsumer:
    """A member of consumer group ``group`` as every consumer of ours opens one: offsets committed by hand once
    the work is done, transactional records only once committed, 1 s heartbeats."""
    return AIOKafkaConsumer(
        **kafka_connection(settings),
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset=auto_offset_reset,
        isolation_level="read_committed",
        max_poll_records=max_poll_records,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms if fetch_max_wait_ms is None else fetch_max_wait_ms,
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=1000,
        client_id=f"{settings.service_name}-{group}",
        **options,
    )


class GroupMember(abc.ABC):
    """The one lifecycle of every Kafka consumer of ours (:class:`EventConsumer`, the router's feed and writer):
    a consumer-group member run in a background task. It connects, retrying every second while the broker is
    away; polls (:meth:`_poll`) until stopped, a failed poll logged and tried again a second later (the broker or
    the database may be restarting; what was not committed is polled again); and on stop lets the poll in hand
    finish (it commits) and leaves the group, so its partitions move at once. Subclasses say how they open their
    consumer (:meth:`_make_consumer`, subscribed) and what one poll does; they call :meth:`_polled` after each
    fetch and :meth:`_joined` / :meth:`_left` from their rebalance listener, which is what /readyz reads."""

    # Whether share_groups may make it a member of a SharedConsumerGroup (see SharedMember: what it must have).
    shareable = False

    def __init__(self, settings: CommonSettings, group: str, *, task_name: str) -> None:
        self.settings = settings
        self.group = group
        self.task_name = task_name
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.started = asyncio.Event()
        # Joined the group, holds its partitions and has fetched since: what /readyz waits for.
        self._assigned = False
        self._fetched_since_assignment = False

    @property
    def ready(self) -> bool:
        return self._assigned and self._fetched_since_assignment and not self._stopping.is_set()

    @abc.abstractmethod
    def _make_consumer(self) -> AIOKafkaConsumer:
        """A consumer subscribed to the member's topics, its rebalance listener calling _joined/_left."""

    @abc.abstractmethod
    async def _poll(self, consumer: AIOKafkaConsumer) -> None:
        """One fetch and what it asks for (handled and committed, or left to be polled again)."""

    def _polled(self) -> None:
        """A fetch returned (with records or none): the member is up, and ready once it holds an assignment."""
        self.started.set()
        if self._assigned:
            self._fetched_since_assignment = True

    def _joined(self) -> None:
        self._assigned = True
        self._fetched_since_assignment = False

    def _left(self) -> None:
        self._assigned = False
        self._fetched_since_assignment = False

    async def _on_revoked(self) -> None:
        """The group takes our partitions back (a rebalance or our leaving): no longer ready."""
        self._left()

    async def start(self) -> None:
        """Returns at once: joining the group (seconds) and reconnecting happen in the background task."""
        self._task = asyncio.create_task(self._run(), name=self.task_name)

    async def stop(self) -> None:
        """Finish the poll in hand, commit it and leave the group so partitions move at once."""
        self._stopping.set()
        await self._finish_task()
        await self._leave_group()

    async def _finish_task(self) -> None:
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=20)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()
                with contextlib.suppress(BaseException):
                    await self._task

    async def _leave_group(self) -> None:
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await self._consumer.stop()
            self._consumer = None

    async def _connect(self) -> AIOKafkaConsumer | None:
        while not self._stopping.is_set():
            consumer = self._make_consumer()
            try:
                await consumer.start()
                self._consumer = consumer
                return consumer
            except KafkaError as exc:
                log.warning("consumer_connect_retry", group=self.group, error=type(exc).__name__)
                with contextlib.suppress(Exception):
                    await consumer.stop()
                await asyncio.sleep(1.0)
        return None

    async def _commit_offsets(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        while True:
            try:
                await consumer.commit(offsets)
                return
            except KafkaError as exc:
                # IllegalState: a partition is no longer assigned to us; CommitFailed: the group rebalanced.
                if "rebalance" in type(exc).__name__.lower() or type(exc).__name__ in PARTITION_MOVED_ERRORS:
                    return  # the partitions moved: their new owners replay from the last commit
                log.warning("commit_retry", group=self.group, error=type(exc).__name__)
                await asyncio.sleep(0.5)

    async def _run(self) -> None:
        consumer = await self._connect()
        while consumer is not None and not self._stopping.is_set():
            try:
                await self._poll(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep consuming: the broker or the database may be restarting
                log.warning(
                    "consumer_loop_error", group=self.group, error=type(exc).__name__, where=error_location(exc)
                )
                await asyncio.sleep(1.0)


class EventConsumer(GroupMember):
    """Runs a handler over one or more topics in a consumer group, committing after each handled batch."""

    shareable = True

    # The process role that runs it (BackgroundWorkers.select, ``--workers``); "shared": every process.
    role = "shared"

    def __init__(
        self,
        settings: CommonSettings,
        *,
        group: str,
        topics: Sequence[str],
        handler: Handler,
        bus: EventBus,
        max_attempts: int = 5,
        retry_base_seconds: float = 0.2,
        broadcast: bool = False,
        accepts: EventFilter | None = None,
        background: bool = False,
        batch_handler: BatchHandler | None = None,
        batch_types: frozenset[str] = frozenset(),
        gate: RecordGate | None = None,
    ) -> None:
        # Broadcast consumers (every replica sees every event) have a group per process.
        member_group = settings.consumer_group(group)
        super().__init__(settings, member_group, task_name=f"consumer:{member_group}")
        self.topics = [settings.topic(t) for t in topics]
        self.handler = handler
        self.bus = bus
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.broadcast = broadcast
        self.accepts = accepts
        # Records of ``batch_types`` that follow each other in a poll go to ``batch_handler`` together; any
        # other record is a barrier handled alone, so the order of a conversation's events is kept.
        self.batch_handler = batch_handler
        self.batch_types = batch_types
        # A consumer that cares about few of the records its filter passes (a pending prompt in a handful of
        # conversations, the accounts with webhook subscriptions) says, once per poll and from keys and
        # headers, which records are worth decoding; the others are skipped undecoded, and committed like any
        # handled record.
        self.gate = gate
        self._gated_out: set[tuple[str, int, int]] = set()
        # Background consumers (copies, downloads, fan-out) poll a quiet broker less often: no one waits on
        # them at a screen, and each poll of an idle partition set costs a round trip.
        self.fetch_max_wait_ms = (
            max(settings.kafka_fetch_max_wait_ms, settings.kafka_background_fetch_max_wait_ms)
            if background
            else settings.kafka_fetch_max_wait_ms
        )
        self.poll_interval = settings.kafka_background_poll_interval_ms / 1000 if background else 0.0
        self._lag = LagReporter(self.group)
        # The shared group this consumer is a member of (its fetch loop polls for it), if any.
        self._shared: SharedConsumerGroup | None = None

    def _make_consumer(self) -> AIOKafkaConsumer:
        consumer = group_consumer(
            self.settings,
            self.group,
            auto_offset_reset="latest" if self.broadcast else "earliest",
            # Low fetch wait: events are small and latency to the agent matters more than fetch batching.
            fetch_max_wait_ms=self.fetch_max_wait_ms,
            # A fetch asks each partition for at most this much: a long local log is never read whole.
            max_partition_fetch_bytes=256 * 1024,
        )
        consumer.subscribe(self.topics, listener=ReadinessListener(self))
        return consumer

    async def _poll(self, consumer: AIOKafkaConsumer) -> None:
        if self.poll_interval:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.poll_interval)
        batches = await consumer.getmany(timeout_ms=200)
        self._polled()
        # One commit for the whole poll, after its records are handled (at-least-once). Handlers are idempotent
        # (keyed inserts, push_once), so a crash replaying the batch changes nothing twice; a commit per record
        # would cost a broker round trip per event on the hot path.
        handled: dict[TopicPartition, int] = {}
        try:
            await self._process(batches, handled)
        finally:
            if handled:
                await self._commit_offsets(consumer, handled)
        await self._lag.report(consumer)

    async def _process(
        self, batches: dict[TopicPartition, list[ConsumerRecord]], handled: dict[TopicPartition, int]
    ) -> None:
        """Handles a poll's records, noting in ``handled`` the offset up to which each partition is done; raises
        (after every partition settled) if one failed. Partitions are independent (order is per key, and a key
        lives in one partition): they are handled side by side, so one slow conversation or a round trip to a
        store does not hold up the rest."""
        if self.gate is not None and batches:
            await self._apply_gate(batches)
        if self.batch_handler is not None and batches:
            batches = await self._handle_leading_runs(batches, handled)
        outcomes = await asyncio.gather(
            *(self._handle_partition(tp, rs, handled) for tp, rs in batches.items()),
            return_exceptions=True,
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _handle_partition(
        self, tp: TopicPartition, records: list[ConsumerRecord], handled: dict[TopicPartition, int]
    ) -> None:
        """Handles records in order, noting in ``handled`` the offset to commit after each."""
        if self.batch_handler is not None:
            await self._handle_runs(tp, records, handled)
            return
        for record in records:
            if self._stopping.is_set():
                return  # hand back the rest: the next owner replays from our last commit
            await self._handle_record(record)
            handled[tp] = record.offset + 1

    async def _apply_gate(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        """Notes the records of this poll the gate turns away. The gate only saves work: it waits out a store
        that is down, and any other failure of it lets every record through (the poll's records are in hand:
        giving up here would skip them)."""
        assert self.gate is not None
        candidates = [
            r for records in batches.values() for r in records if self.accepts is None or self.accepts.wants(r.headers)
        ]
        self._gated_out = set()
        if not candidates:
            return
        while True:
            try:
                wanted = await self.gate(candidates)
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not is_transient(exc) or self._stopping.is_set():
                    log.warning("consumer_gate_failed", group=self.group, error=type(exc).__name__)
                    return
                log.warning("consumer_gate_retry", group=self.group, error=type(exc).__name__)
                await asyncio.sleep(1.0)
        self._gated_out = {
            (r.topic, r.partition, r.offset) for r, keep in zip(candidates, wanted, strict=True) if not keep
        }

    def _wanted(self, record: ConsumerRecord) -> bool:
        if self.accepts is not None and not self.accepts.wants(record.headers):
            return False
        return (record.topic, record.partition, record.offset) not in self._gated_out

    def _kind(self, record: ConsumerRecord) -> str:
        """ "skip" (filtered out from its headers or by the gate), "batch" (a batchable type) or "alone" (a
        barrier)."""
        if not self._wanted(record):
            return "skip"
        for name, value in record.headers or ():
            if name == "event_type":
                return "batch" if value.decode() in self.batch_types else "alone"
        return "alone"

    def _run_length(self, records: list[ConsumerRecord], start: int) -> int:
        end = start
        while end < len(records) and self._kind(records[end]) != "alone":
            end += 1
        return end - start

    async def _handle_leading_runs(
        self, batches: dict[TopicPartition, list[ConsumerRecord]], handled: dict[TopicPartition, int]
    ) -> dict[TopicPartition, list[ConsumerRecord]]:
        """The leading run of every partition in one batch call (partitions hold different conversations, so
        handling them together keeps each one's order); returns what is left of each partition."""
        heads = {tp: self._run_length(records, 0) for tp, records in batches.items()}
        run = [r for tp, records in batches.items() for r in records[: heads[tp]]]
        if run and await self._run_batch(run):
            for tp, records in batches.items():
                if heads[tp]:
                    handled[tp] = records[heads[tp] - 1].offset + 1
        else:
            for tp, records in batches.items():
                for record in records[: heads[tp]]:
                    if self._stopping.is_set():
                        return {}
                    await self._handle_record(record)
                    handled[tp] = record.offset + 1
        return {tp: records[heads[tp] :] for tp, records in batches.items() if records[heads[tp] :]}

    async def _run_batch(self, run: list[ConsumerRecord]) -> bool:
        """One call of the batch handler for ``run`` (filtered-out records dropped); False if it failed."""
        assert self.batch_handler is not None
        wanted = [r for r in run if self._kind(r) == "batch"]
        if not wanted:
            return True
        try:
            events = []
            for index, record in enumerate(wanted, 1):
                events.append((await self._decode(record), record))
                if index % LOOP_SLICE == 0:
                    await asyncio.sleep(0)  # a poll of 500 is parsed in one go otherwise: other tasks wait
            started = time.perf_counter()
            with tracing.consumer_span(wanted[0].headers, f"{self.group} batch"):
                await self.batch_handler(events)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("event_batch_retry_one_by_one", group=self.group, error=type(exc).__name__)
            return False
        elapsed = (time.perf_counter() - started) / len(events)
        for event, _r in events:
            metrics.EVENTS_HANDLED.labels(self.group, event.type, "ok").inc()
            metrics.EVENT_HANDLE_SECONDS.labels(self.group, event.type).observe(elapsed)
        return True

    async def _handle_runs(
        self, tp: TopicPartition, records: list[ConsumerRecord], handled: dict[TopicPartition, int]
    ) -> None:
        """Runs of batchable records go to the batch handler in one call, others one by one, in order. A
        batch that fails is handled again record by record, with the usual retries and dead-lettering
        (handlers are idempotent, so what the failed batch already did is not done twice)."""
        index = 0
        while index < len(records):
            if self._stopping.is_set():
                return
            length = self._run_length(records, index)
            if length == 0:
                await self._handle_record(records[index])
                handled[tp] = records[index].offset + 1
                index += 1
                continue
            run = records[index : index + length]
            if not await self._run_batch(run):
                for record in run:
                    if self._stopping.is_set():
                        return
                    await self._handle_record(record)
                    handled[tp] = record.offset + 1
            handled[tp] = run[-1].offset + 1
            index += length

    async def _decode(self, record: ConsumerRecord) -> Any:
        """The record's event; in a shared group, decoded once for all the consumers that want it."""
        if self._shared is not None:
            return await self._shared.decode(self, record)
        return await self._decode_alone(record)

    async def _decode_alone(self, record: ConsumerRecord) -> Any:
        return self.bus.codec.parse(await self._open(record.value))

    async def _open(self, raw: bytes) -> bytes:
        """Decrypt personal fields (a destroyed key reads as erased); waits out a database outage."""
        while True:
            try:
                return await self.bus.codec.open(raw)
            except Exception as exc:
                if not is_transient(exc) or self._stopping.is_set():
                    raise
                log.warning("event_open_retry", group=self.group, error=type(exc).__name__)
                await asyncio.sleep(1.0)

    async def _handle_record(self, record: ConsumerRecord) -> None:
        if not self._wanted(record):
            return
        try:
            event = await self._decode(record)
        except UnknownEventType as exc:
            log.info("event_skipped_unknown_type", group=self.group, event_type=str(exc))
            return
        except Exception as exc:
            await self._dead_letter(record, exc, attempts=1)
            return
        attempt = 0
        started = time.perf_counter()
        while True:
            attempt += 1
            try:
                with tracing.consumer_span(record.headers, f"{self.group} {event.type}"):
                    await self.handler(event, record)
                metrics.EVENTS_HANDLED.labels(self.group, event.type, "ok").inc()
                metrics.EVENT_HANDLE_SECONDS.labels(self.group, event.type).observe(time.perf_counter() - started)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                transient = is_transient(exc)
                if not transient and attempt >= self.max_attempts:
                    metrics.EVENTS_HANDLED.labels(self.group, event.type, "dead_letter").inc()
                    await self._dead_letter(record, exc, attempts=attempt)
                    return
                delay = min(self.retry_base_seconds * 2 ** min(attempt - 1, 6), 5.0)
                log.warning(
                    "event_handler_retry",
                    group=self.group,
                    event_type=event.type,
                    event_id=str(event.event_id),
                    attempt=attempt,
                    transient=transient,
                    error=type(exc).__name__,
                    where=error_location(exc),
                )
                if self._stopping.is_set() and transient:
                    # Hand the event back: it is not committed, the next owner replays it.
                    raise asyncio.CancelledError from exc
                await asyncio.sleep(delay)

    async def _dead_letter(self, record: ConsumerRecord, exc: Exception, attempts: int) -> None:
        log.error(
            "event_dead_lettered",
            group=self.group,
            topic=record.topic,
            offset=record.offset,
            error=type(exc).__name__,
            attempts=attempts,
        )
        headers = [
            *(record.headers or []),
            ("dlq_source_topic", record.topic.encode()),
            ("dlq_source_partition", str(record.partition).encode()),
            ("dlq_source_offset", str(record.offset).encode()),
            ("dlq_group", self.group.encode()),
            # Only the exception class: its message may quote personal data.
            ("dlq_error", type(exc).__name__.encode()),
            ("dlq_attempts", str(attempts).encode()),
        ]
        await self.bus.publish_raw(self.settings.topic(DEAD_LETTER_TOPIC), record.value, record.key, headers)


# A shared group's member may hold this many wanted records handed to it and not yet finished; past that the fetch
# loop waits for it (backpressure). Members only get the records their filters want, so a member stalled on a
# throttled platform (a channel's replies) fills this slowly while the others go on.
LANE_RECORDS = 5000
# The topics whose consumers in one process share a group (share_groups): nearly every consumer reads this one.
SHARED_TOPICS = (CONVERSATIONS_TOPIC,)


@dataclass
class _LaneItem:
    """One poll's records a member wants, where the poll ended in each partition of the member's topics, and the
    assignment they were fetched under (``epoch``: a rebalance makes them someone else's)."""

    batches: dict[TopicPartition, list[ConsumerRecord]]
    ends: dict[TopicPartition, int]
    epoch: int

    @property
    def count(self) -> int:
        return sum(len(records) for records in self.batches.values())


class SharedMember(Protocol):
    """What a consumer needs to be a member of a :class:`SharedConsumerGroup` (:class:`EventConsumer`, the router's
    feed): its old group's name, topics and pace, the records it wants (from headers), and how it handles a poll's
    records, noting per partition the offset up to which it is done (raising if it failed)."""

    settings: CommonSettings
    group: str
    topics: list[str]
    accepts: EventFilter | None
    fetch_max_wait_ms: int
    poll_interval: float
    role: str
    _stopping: asyncio.Event
    _shared: SharedConsumerGroup | None

    async def _process(
        self, batches: dict[TopicPartition, list[ConsumerRecord]], handled: dict[TopicPartition, int]
    ) -> None: ...


class _Lane:
    """A member of a shared group: its own queue of polls, handled in order by its own task, and the offset up to
    which it finished each partition."""

    def __init__(self, member: SharedMember) -> None:
        self.member = member
        self.topics = frozenset(member.topics)
        self.items: asyncio.Queue[_LaneItem | None] = asyncio.Queue()
        self.pending = 0
        self.room = asyncio.Event()
        self.done: dict[TopicPartition, int] = {}
        # The poll in hand: offsets up to which the member finished it so far (filled in as it goes).
        self.current: dict[TopicPartition, int] = {}
        self.task: asyncio.Task[None] | None = None

    def finished(self, tp: TopicPartition) -> int | None:
        """The offset up to which the member finished the partition, or None before it finished anything."""
        return self.current.get(tp, self.done.get(tp))


class SharedConsumerGroup(GroupMember):
    """Several consumers of one process as one consumer group with one fetch loop (:func:`share_groups`).

    Each fetched record is read by its headers once and handed to the members whose filters want it (the event
    type header first: a member never decodes what it does not want), and a record several members want is
    decrypted and parsed once for all of them. Each member handles its records in its own task, in order, with
    its own retries, dead-lettering and idempotency, exactly as it does alone: a member that fails retries its
    records without holding the others up, and a slow one only holds the fetch loop once it has
    :data:`LANE_RECORDS` records in hand. A partition's offset is committed up to where every member reading it
    has finished (at least once for each of them: after a crash, the members that were ahead see some records
    again, which their idempotency absorbs). Before it first joins, the group takes the committed offsets of the
    groups it replaces (:func:`adopt_offsets`)."""

    role = "shared"

    def __init__(self, settings: CommonSettings, name: str, members: Sequence[SharedMember]) -> None:
        group = settings.consumer_group(name)
        super().__init__(settings, group, task_name=f"consumer:{group}")
        self.members = list(members)
        # The groups it replaces, with the topics each read: where it starts (adopt_offsets).
        self.replaces = {m.group: frozenset(m.topics) for m in members}
        self.topics = sorted({t for m in members for t in m.topics})
        # Hot if any member is: the agent-facing path does not wait on a background member's pace.
        self.fetch_max_wait_ms = min(m.fetch_max_wait_ms for m in members)
        self.poll_interval = min(m.poll_interval for m in members)
        self._lanes = [_Lane(m) for m in members]
        for member in members:
            member._shared = self
            member._stopping = self._stopping  # one stop for the loop and every member's retries
        self._epoch = 0
        # Records more than one member wants: how many of them have still to finish it, and its decoded event.
        self._refs: dict[tuple[str, int, int], int] = {}
        self._decoded: dict[tuple[str, int, int], asyncio.Future[Any]] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._adopted = False
        self._lag = LagReporter(self.group)
        self._next_lag_report = 0.0

    def _make_consumer(self) -> AIOKafkaConsumer:
        consumer = group_consumer(
            self.settings,
            self.group,
            fetch_max_wait_ms=self.fetch_max_wait_ms,
            max_partition_fetch_bytes=256 * 1024,
        )
        consumer.subscribe(self.topics, listener=ReadinessListener(self))
        return consumer

    async def start(self) -> None:
        for lane in self._lanes:
            lane.task = asyncio.create_task(self._run_lane(lane), name=f"consumer-member:{lane.member.group}")
        await super().start()

    async def stop(self) -> None:
        """Stop fetching, let each member finish the poll in hand, commit what all finished and leave."""
        self._stopping.set()
        await self._finish_task()
        for lane in self._lanes:
            lane.room.set()
            lane.items.put_nowait(None)
        tasks = [lane.task for lane in self._lanes if lane.task is not None]
        if tasks:
            _finished, unfinished = await asyncio.wait(tasks, timeout=20)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._commit_done(self._consumer), 5)
        await self._leave_group()

    async def _connect(self) -> AIOKafkaConsumer | None:
        while not self._adopted and not self._stopping.is_set():
            try:
                await adopt_offsets(self.settings, self.group, self.replaces)
                self._adopted = True
            except (KafkaError, OSError) as exc:
                log.warning("consumer_offsets_adopt_retry", group=self.group, error=type(exc).__name__)
                await asyncio.sleep(1.0)
        return await super()._connect()

    async def _poll(self, consumer: AIOKafkaConsumer) -> None:
        if self.poll_interval:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.poll_interval)
        await self._commit_done(consumer)
        batches = await consumer.getmany(timeout_ms=200)
        self._polled()
        if batches:
            await self._dispatch(consumer, batches)
        await self._report_lag(consumer)

    async def _dispatch(self, consumer: AIOKafkaConsumer, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        """Each member gets the poll's records its filter wants (headers read once per record) and where the poll
        ended in each partition it reads, so it can count the records it skipped as done."""
        epoch = self._epoch
        items = {id(lane): _LaneItem({}, {}, epoch) for lane in self._lanes}
        for tp, records in batches.items():
            lanes = [lane for lane in self._lanes if tp.topic in lane.topics]
            for lane in lanes:
                items[id(lane)].ends[tp] = records[-1].offset + 1
            for record in records:
                values = dict(record.headers or ())
                wanting = [
                    lane for lane in lanes if lane.member.accepts is None or lane.member.accepts.wants_values(values)
                ]
                for lane in wanting:
                    items[id(lane)].batches.setdefault(tp, []).append(record)
                if len(wanting) > 1:
                    self._refs[(record.topic, record.partition, record.offset)] = len(wanting)
        for lane in self._lanes:
            item = items[id(lane)]
            if not item.ends:
                continue
            while lane.pending >= LANE_RECORDS and not self._stopping.is_set():
                # Wait for the member, committing meanwhile what the others finish.
                lane.room.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lane.room.wait(), 1.0)
                await self._commit_done(consumer)
            lane.pending += item.count
            lane.items.put_nowait(item)

    async def _run_lane(self, lane: _Lane) -> None:
        while True:
            item = await lane.items.get()
            if item is None:
                return
            try:
                if not self._stopping.is_set() and item.epoch == self._epoch:
                    await self._work(lane, item)
            finally:
                lane.pending -= item.count
                lane.room.set()
                self._release(item)

    async def _work(self, lane: _Lane, item: _LaneItem) -> None:
        """A member handles one poll's records; what fails is tried again (after a second) until it is done or
        the group stops, so no record is skipped for it, and the other members go on meanwhile."""
        member = lane.member
        remaining = item.batches
        while True:
            handled: dict[TopicPartition, int] = {}
            if item.epoch == self._epoch:
                lane.current = handled  # what it finishes is committable at once, before the poll ends
            failed = False
            try:
                await member._process(remaining, handled)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failed = True
                log.warning(
                    "consumer_member_error", group=member.group, error=type(exc).__name__, where=error_location(exc)
                )
            if item.epoch == self._epoch:
                lane.current = {}
                finished = not failed and not self._stopping.is_set()
                for tp, end in item.ends.items():
                    if finished:
                        lane.done[tp] = end
                    elif tp in handled:
                        lane.done[tp] = handled[tp]
            if not failed or self._stopping.is_set() or item.epoch != self._epoch:
                return  # done, stopping, or the partitions moved (their next owner replays from the commit)
            await asyncio.sleep(1.0)
            remaining = {
                tp: [r for r in records if r.offset >= handled.get(tp, -1)] for tp, records in remaining.items()
            }
            remaining = {tp: records for tp, records in remaining.items() if records}

    def _release(self, item: _LaneItem) -> None:
        if not self._refs:
            return
        for records in item.batches.values():
            for record in records:
                key = (record.topic, record.partition, record.offset)
                left = self._refs.get(key)
                if left is None:
                    continue
                if left <= 1:
                    del self._refs[key]
                    self._decoded.pop(key, None)
                else:
                    self._refs[key] = left - 1

    async def decode(self, member: EventConsumer, record: ConsumerRecord) -> Any:
        """The record's event, decoded once for every member that wants it (a record only one wants is not kept)."""
        key = (record.topic, record.partition, record.offset)
        if key not in self._refs:
            return await member._decode_alone(record)
        future = self._decoded.get(key)
        if future is None:
            future = asyncio.ensure_future(member._decode_alone(record))
            future.add_done_callback(_retrieve)
            self._decoded[key] = future
        # Shielded: a member cancelled meanwhile must not cancel the decoding the others wait on.
        return await asyncio.shield(future)

    def _committable(self) -> dict[TopicPartition, int]:
        """Per partition, the lowest offset its members finished, where that moved since the last commit."""
        offsets: dict[TopicPartition, int] = {}
        for tp in {tp for lane in self._lanes for tp in (*lane.done, *lane.current)}:
            finished = [lane.finished(tp) for lane in self._lanes if tp.topic in lane.topics]
            if any(offset is None for offset in finished):
                continue  # a member has not finished anything of it yet
            low = min(offset for offset in finished if offset is not None)
            if low > self._committed.get(tp, -1):
                offsets[tp] = low
        return offsets

    async def _commit_done(self, consumer: AIOKafkaConsumer) -> None:
        offsets = self._committable()
        if offsets:
            await self._commit_offsets(consumer, offsets)
            self._committed.update(offsets)

    async def _on_revoked(self) -> None:
        """Commit what every member finished; what they hold of the old assignment is dropped (the next owner
        replays it from the commit), and what they are handling now is no longer counted."""
        self._left()
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._commit_done(self._consumer), 5)
        self._epoch += 1
        for lane in self._lanes:
            lane.done.clear()
            lane.current = {}
            stop = False
            while not lane.items.empty():
                item = lane.items.get_nowait()
                if item is None:
                    stop = True
                    continue
                lane.pending -= item.count
            if stop:
                lane.items.put_nowait(None)
            lane.room.set()
        self._committed.clear()
        self._refs.clear()
        self._decoded.clear()

    async def _report_lag(self, consumer: AIOKafkaConsumer) -> None:
        """Each member's lag under its own group name (where it finished against the partition's end), the
        series operators alert on, and the shared group's."""
        now = time.monotonic()
        if now >= self._next_lag_report:
            self._next_lag_report = now + LAG_REPORT_SECONDS
            for tp in consumer.assignment():
                highwater = consumer.highwater(tp)
                if highwater is None:
                    continue
                start = self._committed.get(tp)
                if start is None:
                    # Nothing finished since the assignment: the members stand where the group's fetch began.
                    # Bounded, as LagReporter does: a position still to be reset is reported on a later round.
                    with contextlib.suppress(Exception):
                        start = await asyncio.wait_for(consumer.position(tp), timeout=0.2)
                for lane in self._lanes:
                    finished = lane.finished(tp)
                    done = start if finished is None else finished
                    if tp.topic in lane.topics and done is not None:
                        metrics.CONSUMER_LAG.labels(lane.member.group, tp.topic, str(tp.partition)).set(
                            max(highwater - done, 0)
                        )
        await self._lag.report(consumer)


def _retrieve(future: asyncio.Future[Any]) -> None:
    """A failure every waiter left behind is not reported as never retrieved."""
    if not future.cancelled():
        future.exception()


def share_groups(workers: Sequence[WorkerT], service: str) -> list[WorkerT | SharedConsumerGroup]:
    """Within one process, the consumers of a :data:`SHARED_TOPICS` topic become one group with one fetch loop
    (:class:`SharedConsumerGroup`), in place of the first of them: each group fetched every record and read
    its headers, which cost the process and the broker once per group. The group is named after the service and
    the roles of its members (``connectors-ingest-outbound-conversations`` in `make run`,
    ``connectors-outbound-conversations`` in the outbound Deployment), so processes with other members form
    other groups. Broadcast consumers (a group per process) stay apart."""
    result: list[WorkerT | SharedConsumerGroup] = list(workers)
    for logical in SHARED_TOPICS:
        members = [
            cast(SharedMember, w)
            for w in result
            if isinstance(w, GroupMember)
            and w.shareable
            and not getattr(w, "broadcast", False)
            and w.settings.topic(logical) in getattr(w, "topics", ())
        ]
        if len(members) < 2:
            continue
        roles = sorted({m.role for m in members} - {"shared"})
        group = SharedConsumerGroup(members[0].settings, "-".join([service, *roles, logical]), members)
        result = [group if w is members[0] else w for w in result if not any(w is m for m in members[1:])]
    return result


async def adopt_offsets(
    settings: CommonSettings, group: str, replaced: Mapping[str, frozenset[str]]
) -> dict[TopicPartition, int]:
    """Where a new group that replaces others starts: per partition, the lowest offset the replaced groups
    (reading that partition's topic) committed, so no member skips a record it had not finished; the records
    between that and where the others stood are seen again, which their idempotency absorbs. Only while the
    new group has no commit of its own (run at every start, it moves nothing once the group has consumed), and
    only partitions some replaced group committed (a partition none committed starts as a new group does).
    Returns the offsets committed."""
    topics = frozenset().union(*replaced.values())
    admin = AIOKafkaAdminClient(**kafka_connection(settings))
    await admin.start()
    try:
        partitions = await topic_partitions(admin, topics)
        # Partitions named: the local broker answers an offset fetch of "all the group's partitions" in a form
        # aiokafka cannot read.
        own = await admin.list_consumer_group_offsets(group, partitions=partitions)
        if any(meta.offset >= 0 for meta in own.values()):
            return {}
        lowest: dict[TopicPartition, int] = {}
        for old, old_topics in sorted(replaced.items()):
            reads = [tp for tp in partitions if tp.topic in old_topics]
            for tp, meta in (await admin.list_consumer_group_offsets(old, partitions=reads)).items():
                if tp.topic in old_topics and meta.offset >= 0:
                    lowest[tp] = min(meta.offset, lowest.get(tp, meta.offset))
    finally:
        await admin.close()
    if not lowest:
        return {}
    # Committed outside any generation, as a consumer with manual assignment does: the group has no member yet.
    consumer = AIOKafkaConsumer(
        **kafka_connection(settings),
        group_id=group,
        enable_auto_commit=False,
        client_id=f"{settings.service_name}-{group}-adopt",
    )
    await consumer.start()
    try:
        consumer.assign(list(lowest))
        await consumer.commit(lowest)
    finally:
        await consumer.stop()
    log.info("consumer_offsets_adopted", group=group, replaced=sorted(replaced), partitions=len(lowest))
    return lowest


async def topic_partitions(admin: AIOKafkaAdminClient, topics: Iterable[str]) -> list[TopicPartition]:
    """Every partition of these topics (those that exist)."""
    found = await admin.describe_topics(sorted(topics))
    return [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in found
        if not topic.get("error_code")
        for partition in topic["partitions"]
    ]


class LagReporter:
    """Sets ``switchboard_kafka_consumer_lag`` for the partitions a consumer holds, the series operators alert
    on; for every consumer of ours, the shared one and the router's own (feed, writer)."""

    def __init__(self, group: str) -> None:
        self.group = group
        self._next_report = 0.0

    async def report(self, consumer: AIOKafkaConsumer) -> None:
        # Every few seconds, not every poll: a gauge scraped every 15 s does not need more, and the polling
        # loop runs many times a second per consumer.
        now = time.monotonic()
        if now < self._next_report:
            return
        self._next_report = now + LAG_REPORT_SECONDS
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            # Bounded: a partition whose position must first be reset (or is paused) would otherwise hold up
            # the consumer's loop; its lag is reported on a later round.
            with contextlib.suppress(Exception):
                position = await asyncio.wait_for(consumer.position(tp), timeout=0.2)
                metrics.CONSUMER_LAG.labels(self.group, tp.topic, str(tp.partition)).set(max(highwater - position, 0))


class ReadinessListener(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka ships no types; subscribe() requires this base (isinstance)
    """Tells a group member when it holds its partitions (after a join) and when it gave them up."""

    def __init__(self, member: GroupMember) -> None:
        self.member = member

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self.member._on_revoked()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.member._joined()
