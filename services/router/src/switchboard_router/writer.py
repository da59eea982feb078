"""The routing writer: for each account exactly one router replica makes and writes routing decisions.

Everything that can change an account's routing — the gateway's manual actions, agents' presence, forwarded
conversation events (switchboard_router.feed), an operator's clock for due timers — is a record keyed by
account on the routing topic, so Kafka's partition assignment names the account's writer: the consumer-group
member owning its partition. The writer holds the account's state in memory (switchboard_router.account),
loaded when it takes the account over and kept current by applying every decision and record in partition
order. Each round of decisions is committed per account in one fenced transaction together with its outbox
events (switchboard_router.store); then callers get their answers, the events go to Kafka and the offsets
are committed.

Taking an account over is itself guarded twice: the writer first commits its partition's offset (Kafka
refuses commits from a member that lost the partition), then raises the account's epoch in PostgreSQL. A
batch refused by the epoch check pauses the partition until the next assignment (or a session timeout later),
so a replica that wakes up after losing its partitions writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2
from sqlalchemy import select, text
from switchboard_common.domain.accounts import presence
from switchboard_common.domain.accounts.tenancy import cross_tenant, tenant_session
from switchboard_common.domain.conversations import commands
from switchboard_common.domain.conversations import lifecycle as lc
from switchboard_common.domain.conversations.models import RoutingWriter as RoutingWriterRow
from switchboard_common.domain.events import (
    AgentPresenceChanged,
    ConversationCreated,
    ConversationSlaBreached,
    ConversationStatusChanged,
    Event,
    MessageCreated,
    RoutingCommand,
    parse_event,
)
from switchboard_common.infra import metrics
from switchboard_common.infra.bus import ROUTING_TOPIC, GroupMember, UnknownEventType, group_consumer
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.errors import error_location
from switchboard_common.infra.outbox import forget_published
from switchboard_common.infra.runtime import Resources

from switchboard_router import store
from switchboard_router.account import AccountRouting, Batch

log = structlog.get_logger(__name__)

WANTED_TYPES = frozenset(
    {
        "routing.command",
        "agent.presence_changed",
        "conversation.created",
        "message.created",
        "conversation.status_changed",
        "conversation.sla_breached",
    }
)
MANUAL_ACTIONS = frozenset(
    {"assign", "claim", "accept", "reject", "transfer", "unassign", "resolve", "pending", "snooze", "reopen"}
) | {"spam", "not_spam"}
# Records the router published itself carry this header; the feed does not send them back.
ORIGIN_HEADER = ("origin", b"router")
SEEN_COMMANDS = 10_000
CONCURRENT_FLUSHES = 4
SESSION_TIMEOUT_MS = 10_000
KAFKA_CALL_SECONDS = 5.0
NOT_OWNER_PAUSE_SECONDS = 1.0
FENCED_PAUSE_SECONDS = 2.0
# Small: a draining queue moves every waiting visitor each tick, and packing a pipeline of a thousand frames held
# the writer's event loop (placements after an agent came online waited behind it). Other tasks run while each
# pipeline is on the wire.
POSITION_FRAMES_PER_PIPELINE = 200
# Committed batches whose events wait for Kafka before the writer waits for them (backpressure), and the most
# events published together. Few: events committed longer than the outbox relay's grace ago are published by
# the relay too, so a writer far ahead of Kafka doubled the load of a slow system (17 decisions/s, not 380).
PUBLISH_QUEUE_BATCHES = 2
PUBLISH_EVENTS_AT_ONCE = 5_000
# Work for accounts the writer owns but has not loaded (conversations waiting, timers): found on assignment
# and every sweep.
ACCOUNTS_WITH_WORK = text(
    """
    SELECT DISTINCT account_id FROM routing_timers
    UNION SELECT DISTINCT account_id FROM conversations WHERE status = 'open' AND assignee_id IS NULL
    """
)


def _coming_online(event: Event) -> uuid.UUID | None:
    if isinstance(event, RoutingCommand) and event.payload.action == "presence" and event.payload.status == "online":
        return event.payload.agent_id
    if isinstance(event, AgentPresenceChanged) and event.payload.status == "online":
        return event.payload.agent_id
    return None


def _presence_of(event: Event) -> uuid.UUID | None:
    """The agent whose presence a record announces, if it does."""
    if isinstance(event, RoutingCommand) and event.payload.action == "presence":
        return event.payload.agent_id
    if isinstance(event, AgentPresenceChanged):
        return event.payload.agent_id
    return None


def partition_of(account_id: uuid.UUID, partitions: int) -> int:
    """The routing-topic partition of an account (the producer's default partitioner on its key)."""
    hashed: int = murmur2(str(account_id).encode())  # aiokafka ships no types
    return (hashed & 0x7FFFFFFF) % partitions


class RecentIds:
    """The last ``limit`` ids seen, answering "seen before?" in O(1): a set for lookups, a queue for the order
    they leave in. (A bounded deque alone answers by scanning: with thousands of agents coming online at
    once, each presence command compared its id with up to 10,000 others, a quarter of the router's CPU.)"""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._order: deque[uuid.UUID] = deque()
        self._ids: set[uuid.UUID] = set()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, value: object) -> bool:
        return value in self._ids

    def add(self, value: uuid.UUID) -> bool:
        """Remembers ``value``; whether it was already remembered (the oldest id leaves beyond the limit)."""
        if value in self._ids:
            return True
        self._ids.add(value)
        self._order.append(value)
        if len(self._order) > self.limit:
            self._ids.discard(self._order.popleft())
        return False


@dataclass(frozen=True)
class PositionFrame:
    """A waiting visitor's queue.position frame: (stream, frame), a hint for the stream publisher."""

    account: AccountRouting
    conversation_id: uuid.UUID
    push: tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Item:
    account_id: uuid.UUID
    tp: TopicPartition
    offset: int
    event: Event


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka ships no types; subscribe() requires this base (isinstance)
    def __init__(self, writer: RoutingWriter) -> None:
        self.writer = writer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self.writer.partitions_revoked({tp.partition for tp in revoked})

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self.writer.partitions_assigned({tp.partition for tp in assigned})


class RoutingWriter(GroupMember):
    def __init__(
        self,
        res: Resources,
        *,
        batch_limit: int = 500,
        tick_seconds: float = 1.0,
        presence_seconds: float = 15.0,
        sweep_seconds: float = 30.0,
        poll_ms: int = 100,
    ) -> None:
        super().__init__(res.settings, res.settings.consumer_group("router-writer"), task_name="router-writer")
        self.res = res
        self.topic = self.settings.topic(ROUTING_TOPIC)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.batch_limit = batch_limit
        self.tick_seconds = tick_seconds
        self.presence_seconds = presence_seconds
        self.sweep_seconds = sweep_seconds
        self.poll_ms = poll_ms
        self.accounts: dict[uuid.UUID, AccountRouting] = {}
        # Accounts taken over (epoch raised) but not loaded yet: (epoch, applied partition, applied offset).
        self.epochs: dict[uuid.UUID, tuple[int, int | None, int | None]] = {}
        self.partition_of_account: dict[uuid.UUID, int] = {}
        self.partitions: set[int] = set()
        self._adopt: set[int] = set()
        self._paused: dict[int, float] = {}
        self._fenced_partitions: set[int] = set()
        self._seen: dict[uuid.UUID, RecentIds] = {}
        self._revoked: set[int] = set()
        self._outgoing: asyncio.Queue[list[Event]] = asyncio.Queue(PUBLISH_QUEUE_BATCHES)
        self._publisher: asyncio.Task[None] | None = None
        self._positions: asyncio.Task[None] | None = None
        self._next_tick = 0.0
        self._next_presence = time.monotonic() + presence_seconds
        self._next_sweep = time.monotonic() + sweep_seconds
        self.fenced = 0

    # --- lifecycle of the worker --------------------------------------------------------------------

    async def start(self) -> None:
        self._publisher = asyncio.create_task(self._publish_committed(), name="router-writer-publisher")
        await super().start()

    async def stop(self) -> None:
        """Finish the round in hand (it commits) and publish what is committed, then leave the group so
        partitions move at once."""
        self._stopping.set()
        await self._finish_task()
        if self._positions is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._positions, timeout=5)  # a hint for visitors: not worth more
            self._positions = None
        if self._publisher is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outgoing.join(), timeout=10)  # the rest: the outbox relay
            self._publisher.cancel()
            with contextlib.suppress(BaseException):
                await self._publisher
            self._publisher = None
        await self._leave_group()

    def _make_consumer(self) -> AIOKafkaConsumer:
        consumer = group_consumer(
            self.settings, self.group, max_poll_records=self.batch_limit, session_timeout_ms=SESSION_TIMEOUT_MS
        )
        consumer.subscribe([self.topic], listener=_Rebalance(self))
        return consumer

    async def _poll(self, consumer: AIOKafkaConsumer) -> None:
        records = await consumer.getmany(timeout_ms=self.poll_ms, max_records=self.batch_limit)
        self._polled()
        self._apply_rebalance()
        if records:
            await self._commit(consumer, await self._handle(consumer, records))
        await self._housekeeping(consumer)

    # --- ownership ----------------------------------------------------------------------------------

    async def partitions_revoked(self, revoked: set[int]) -> None:
        # Called from the group coordinator while a rebalance waits: note it only (the main task drops the
        # accounts at its next step; anything it writes meanwhile is fenced once a new owner took over).
        self._revoked |= revoked
        self.partitions -= revoked

    async def partitions_assigned(self, assigned: set[int]) -> None:
        self._joined()
        self.partitions = set(assigned)
        self._adopt |= assigned
        for partition in assigned:
            self._paused.pop(partition, None)

    def _apply_rebalance(self) -> None:
        if not self._revoked:
            return
        revoked, self._revoked = self._revoked, set()
        for account_id, partition in list(self.partition_of_account.items()):
            if partition in revoked:
                self._forget(account_id)
        metrics.ROUTING_ACCOUNTS.set(len(self.accounts))

    def _forget(self, account_id: uuid.UUID) -> None:
        self.accounts.pop(account_id, None)
        self.epochs.pop(account_id, None)
        self.partition_of_account.pop(account_id, None)
        self._seen.pop(account_id, None)

    def _partition_count(self, consumer: AIOKafkaConsumer) -> int:
        return len(consumer.partitions_for_topic(self.topic) or ()) or self.settings.kafka_topic_partitions

    async def _still_owner(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> bool:
        """Kafka accepts an offset commit only from the member that owns the partition in the current
        generation: re-committing what is already done proves ownership before an epoch is raised."""
        try:
            await asyncio.wait_for(consumer.commit(offsets), KAFKA_CALL_SECONDS)
            return True
        except (KafkaError, TimeoutError) as exc:
            log.warning("writer_not_owner", error=type(exc).__name__)
            return False

    async def _take_over(self, consumer: AIOKafkaConsumer, account_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        """Raises the accounts' epochs; returns the accounts that no longer exist (nothing to route)."""
        async with self.res.sessionmaker() as session:
            taken = await store.take_over(session, account_ids, self.owner)
        metrics.ROUTING_TAKEOVERS.inc(len(taken))
        self.epochs.update(taken)
        partitions = self._partition_count(consumer)
        for account_id in taken:
            self.partition_of_account[account_id] = partition_of(account_id, partitions)
        return set(account_ids) - set(taken)

    async def _load(self, account_id: uuid.UUID, now: datetime) -> AccountRouting | None:
        taken = self.epochs.get(account_id)
        if taken is None:
            return None
        epoch, applied_partition, applied_offset = taken
        partition = self.partition_of_account.get(account_id)
        account = await store.load_account(
            self.res, account_id, epoch, applied_offset if applied_partition == partition else None, now
        )
        self.accounts[account_id] = account
        metrics.ROUTING_ACCOUNTS.set(len(self.accounts))
        return account

    async def _adopt_partitions(self, consumer: AIOKafkaConsumer, partitions: set[int], now: datetime) -> None:
        """Takes over every account of newly owned partitions that has routing state or work, and loads those
        with work: an older writer is fenced at once, and waiting conversations and timers go on."""
        count = self._partition_count(consumer)
        async with self.res.sessionmaker() as session:
            # Every account's: which of them have work to pick up is the question.
            work = set((await session.execute(cross_tenant(ACCOUNTS_WITH_WORK))).scalars().all())
            writers = set((await session.scalars(cross_tenant(select(RoutingWriterRow.account_id)))).all())
        mine = [a for a in work | writers if partition_of(a, count) in partitions and a not in self.accounts]
        if not mine:
            return
        offsets = {}
        for partition in {partition_of(a, count) for a in mine}:
            tp = TopicPartition(self.topic, partition)
            try:
                committed = await asyncio.wait_for(consumer.committed(tp), KAFKA_CALL_SECONDS)
            except (KafkaError, TimeoutError):
                self._adopt.add(partition)  # next time
                continue
            offsets[tp] = committed or 0  # re-committing what is done (nothing yet: the start) skips nothing
        if not offsets or not await self._still_owner(consumer, offsets):
            return
        mine = [a for a in mine if TopicPartition(self.topic, partition_of(a, count)) in offsets]
        await self._take_over(consumer, mine)
        for account_id in mine:
            if account_id in work:
                account = await self._load(account_id, now)
                if account is not None:
                    account.drain_wanted = True

    def _pause(self, consumer: AIOKafkaConsumer, partition: int, seconds: float) -> None:
        """This replica may no longer own the partition (Kafka refused its commit, or a newer writer fenced a
        batch): stop taking its records for a moment and forget its accounts. A replica that lost it is told
        by the group meanwhile (revoked); one that still owns it takes its accounts over again, proven anew."""
        tp = TopicPartition(self.topic, partition)
        with contextlib.suppress(Exception):
            consumer.pause(tp)
        self._paused[partition] = time.monotonic() + seconds
        for account_id, account_partition in list(self.partition_of_account.items()):
            if account_partition == partition:
                self._forget(account_id)

    # --- one poll -----------------------------------------------------------------------------------

    async def _item(self, record: ConsumerRecord) -> Item | None:
        event_type = dict(record.headers or ()).get("event_type", b"").decode()
        if event_type and event_type not in WANTED_TYPES:
            return None
        raw = record.value
        if event_type == "routing.command":
            raw = await self.res.bus.codec.open(raw)  # a note is personal: sealed on the topic
        try:
            event = parse_event(raw)
        except UnknownEventType:
            return None
        except Exception as exc:
            log.warning("writer_record_skipped", error=type(exc).__name__, offset=record.offset)
            return None
        tp = TopicPartition(record.topic, record.partition)
        return Item(event.tenant_id, tp, record.offset, event)

    async def _handle(
        self, consumer: AIOKafkaConsumer, records: dict[TopicPartition, list[ConsumerRecord]]
    ) -> dict[TopicPartition, tuple[int, int | None]]:
        """Applies a poll's records; per partition: (offset to commit, offset to seek back to or None)."""
        now = utcnow()
        items: dict[uuid.UUID, list[Item]] = {}
        for recs in records.values():
            for record in recs:
                item = await self._item(record)
                if item is not None:
                    items.setdefault(item.account_id, []).append(item)
        failed: dict[TopicPartition, int] = {}

        def fail(account_id: uuid.UUID) -> None:
            for item in items.get(account_id, ()):
                failed[item.tp] = min(failed.get(item.tp, item.offset), item.offset)

        for account_id, account_items in items.items():
            self.partition_of_account.setdefault(account_id, account_items[0].tp.partition)
        new = [a for a in items if a not in self.accounts and a not in self.epochs]
        if new:
            floors = {tp: recs[0].offset for tp, recs in records.items()}
            tps = {item.tp for a in new for item in items[a]}
            if await self._still_owner(consumer, {tp: floors[tp] for tp in tps}):
                for account_id in await self._take_over(consumer, new):
                    items.pop(account_id, None)  # deleted: its records are done with
            else:
                for tp in tps:
                    self._pause(consumer, tp.partition, NOT_OWNER_PAUSE_SECONDS)
        touched = []
        for account_id, account_items in items.items():
            account = self.accounts.get(account_id) or await self._load(account_id, now)
            if account is None:
                fail(account_id)
                continue
            await self._apply(account, account_items, now)
            touched.append(account)
        for account in await self._settle(touched, now):
            fail(account.account_id)
        for partition in self._fenced_partitions:
            self._pause(consumer, partition, FENCED_PAUSE_SECONDS)
        self._fenced_partitions.clear()
        outcome: dict[TopicPartition, tuple[int, int | None]] = {}
        for tp, recs in records.items():
            if tp in failed:
                outcome[tp] = (failed[tp], failed[tp])
            else:
                outcome[tp] = (recs[-1].offset + 1, None)
        return outcome

    async def _commit(self, consumer: AIOKafkaConsumer, outcome: dict[TopicPartition, tuple[int, int | None]]) -> None:
        for tp, (_, seek_to) in outcome.items():
            if seek_to is not None:
                with contextlib.suppress(Exception):
                    consumer.seek(tp, seek_to)
        offsets = {tp: commit for tp, (commit, _) in outcome.items() if tp.partition in self.partitions}
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except KafkaError as exc:
            # The partitions moved: their new owner replays from the last commit (and skips what a committed
            # batch already applied: routing_writers.applied_offset).
            log.info("writer_commit_skipped", error=type(exc).__name__)

    def _seen_before(self, account_id: uuid.UUID, command_id: uuid.UUID) -> bool:
        seen = self._seen.get(account_id)
        if seen is None:
            seen = self._seen[account_id] = RecentIds(SEEN_COMMANDS)
        return seen.add(command_id)

    async def _apply(self, account: AccountRouting, items: list[Item], now: datetime) -> None:
        """Applies one account's records in order (skipping what an earlier writer already committed)."""
        fresh = [i for i in items if account.applied_offset is None or i.offset > account.applied_offset]
        unknown = {
            i.event.conversation_id
            for i in fresh
            if i.event.conversation_id is not None
            and i.event.conversation_id not in account.conversations
            and not isinstance(i.event, AgentPresenceChanged)
        }
        extra: dict[uuid.UUID, lc.Conversation] = {}
        if unknown:
            async with tenant_session(self.res.sessionmaker, account.account_id) as session:
                for c, timers in await store.load_conversations(session, account.account_id, unknown):
                    if c.status in lc.ACTIVE_STATUSES:
                        account.adopt(c, timers)
                    else:
                        extra[c.id] = c
        coming_online = {agent_id for i in fresh if (agent_id := _coming_online(i.event)) is not None}
        if coming_online:
            # An agent coming online is routed with their settings as they are now (capacity, skills, teams).
            async with tenant_session(self.res.sessionmaker, account.account_id) as session:
                account.update_agents(await store.load_agents(session, account.account_id, set(), coming_online))
        # Presence as it stands in Redis decides (one read for every agent this poll names, not one each).
        statuses = await self._statuses(account, {a for i in fresh if (a := _presence_of(i.event)) is not None})
        # Settings are read again at most once a poll: a read now sees everything committed before any of the
        # poll's records was sent (an admin creating 500 agents sends 500 refreshes: one read, not 500 reloads
        # of every agent and 500 rebuilt indexes).
        refreshed: list[bool] = []
        for item in fresh:
            account.batch.offset = item.offset
            event = item.event
            if isinstance(event, RoutingCommand):
                await self._command(account, event, extra, statuses, now, refreshed)
            elif isinstance(event, AgentPresenceChanged):
                self._presence(account, event.payload.agent_id, event.payload.status, statuses, now)
            elif isinstance(event, MessageCreated):
                p = event.payload
                account.message(
                    event.conversation_id,
                    now,
                    direction=p.direction,
                    sender_type=p.sender_type,
                    sender_id=p.sender_id,
                    message_id=p.message_id,
                    sent_at=p.created_at,
                )
            elif isinstance(event, ConversationStatusChanged):
                account.status_changed(event.conversation_id, event.payload.status, event.payload.handoff)
            elif isinstance(event, ConversationCreated):
                pass  # adopted above: the drain places it
            elif isinstance(event, ConversationSlaBreached) and event.payload.priority is not None:
                account.prioritise(event.conversation_id, event.payload.priority, now)
        if fresh:
            account.applied_offset = fresh[-1].offset

    async def _command(
        self,
        account: AccountRouting,
        event: RoutingCommand,
        extra: dict[uuid.UUID, lc.Conversation],
        statuses: dict[uuid.UUID, str | None],
        now: datetime,
        refreshed: list[bool],
    ) -> None:
        p = event.payload
        if p.deadline is not None and p.deadline < now:
            metrics.ROUTING_COMMANDS_EXPIRED.inc()
            return  # its caller has given up (503): it must not happen later
        if self._seen_before(account.account_id, p.command_id):
            return
        result = commands.CommandResult()
        if p.action == "presence":
            if p.agent_id is not None:  # always set: the gateway sends presence for the agent whose status changed
                self._presence(account, p.agent_id, p.status or "offline", statuses, now)
        elif p.action == "refresh":
            await self._refresh_once(account, refreshed)
        elif p.action == "fire_timers":
            clock = p.now or now
            result = commands.CommandResult(data={"fired": account.fire_due(clock)})
            account.drain(clock, self.batch_limit)
        elif p.action in MANUAL_ACTIONS:
            conversation_id = event.conversation_id
            c = account.conversations.get(conversation_id) if conversation_id else None
            if c is None and conversation_id is not None:
                c = extra.get(conversation_id)
            if p.agent_id is not None and p.agent_id not in account.agents:
                await self._refresh_once(account, refreshed)
            result = account.command(c, p, now)
        if p.reply_to:
            account.batch.replies.append((p.reply_to, result))

    async def _statuses(self, account: AccountRouting, agent_ids: set[uuid.UUID]) -> dict[uuid.UUID, str | None]:
        """The agents' presence as Redis holds it now, in one round trip."""
        if not agent_ids:
            return {}
        ordered = list(agent_ids)
        values = await self.res.redis.hmget(self.res.keys.presence(account.account_id), [str(a) for a in ordered])
        return dict(zip(ordered, values, strict=True))

    def _presence(
        self,
        account: AccountRouting,
        agent_id: uuid.UUID,
        status: str,
        statuses: dict[uuid.UUID, str | None],
        now: datetime,
    ) -> None:
        """Presence as it stands in Redis decides (commands may arrive late or twice): online agents are
        routable; one who went offline gives their open conversations back."""
        current = statuses.get(agent_id)
        online = current == "online"
        account.presence(agent_id, online, now, give_back=status == "offline" and current != "online")

    async def _refresh_once(self, account: AccountRouting, refreshed: list[bool]) -> None:
        if not refreshed:
            refreshed.append(True)
            await self._refresh(account)

    async def _refresh(self, account: AccountRouting) -> None:
        """Settings, teams, skills or capacities changed (the gateway says so): read them again."""
        online = {a.id for a in account.agents.values() if a.online}
        online |= await presence.online_agents(self.res.redis, self.res.keys, account.account_id)
        async with tenant_session(self.res.sessionmaker, account.account_id) as session:
            settings = await store.load_settings(session, account.account_id)
            agents = await store.load_agents(session, account.account_id, online)
        account.reconfigure(settings, agents)

    # --- committing ---------------------------------------------------------------------------------

    async def _settle(self, accounts: list[AccountRouting], now: datetime) -> list[AccountRouting]:
        """Drains queues and commits, round after round while there is more to place; returns the accounts
        whose batch did not commit (their state is dropped: reloaded from the database on next use)."""
        failed: list[AccountRouting] = []
        pending = [a for a in accounts if a.account_id in self.accounts]
        rounds = 0
        semaphore = asyncio.Semaphore(CONCURRENT_FLUSHES)
        while pending and rounds < 20:
            rounds += 1
            for account in pending:
                if account.drain_wanted:
                    await self._sticky(account, now)
                    account.drain(now, self.batch_limit)
            flushing = [a for a in pending if a.batch.writes]

            async def flush(account: AccountRouting) -> bool:
                async with semaphore:
                    return await self._flush(account)

            results = await asyncio.gather(*(flush(a) for a in flushing))
            failed += [a for a, ok in zip(flushing, results, strict=True) if not ok]
            pending = [a for a in pending if a.drain_wanted and a.account_id in self.accounts]
        return failed

    async def _sticky(self, account: AccountRouting, now: datetime) -> None:
        unknown = account.sticky_contacts_unknown()
        if unknown:
            async with tenant_session(self.res.sessionmaker, account.account_id) as session:
                since = now - store.longest_sticky_window(account)
                account.sticky.update(await store.previous_agents(session, account.account_id, unknown, since))

    async def _flush(self, account: AccountRouting) -> bool:
        batch, account.batch = account.batch, Batch()
        started = time.perf_counter()
        try:
            async with tenant_session(self.res.sessionmaker, account.account_id) as session:
                await store.flush(session, account, batch, self.partition_of_account.get(account.account_id))
        except store.AccountGone:
            self._forget(account.account_id)
            return True
        except store.Fenced:
            self.fenced += 1
            metrics.ROUTING_FENCED.inc()
            log.warning("writer_fenced", account_id=str(account.account_id))
            partition = self.partition_of_account.get(account.account_id)
            if partition is not None:
                self._fenced_partitions.add(partition)
            self._forget(account.account_id)
            return False
        except Exception as exc:
            log.warning("writer_flush_failed", error=type(exc).__name__, where=error_location(exc))
            self._forget(account.account_id)
            return False
        metrics.ROUTING_BATCH_SECONDS.observe(time.perf_counter() - started)
        await commands.reply(self.res.redis, batch.replies)
        if batch.events:
            # Committed with the batch (outbox): published behind the writer's back, in commit order, so the
            # next decisions do not wait for Kafka's acknowledgement.
            await self._outgoing.put(batch.events)
        return True

    async def _publish_committed(self) -> None:
        """Publishes committed batches' events in order (several batches at once when they queue up), then
        clears them from the outbox; what fails stays there for the outbox relay."""
        while True:
            events = list(await self._outgoing.get())
            taken = 1
            while not self._outgoing.empty() and len(events) < PUBLISH_EVENTS_AT_ONCE:
                events += self._outgoing.get_nowait()
                taken += 1
            try:
                await self._publish(events)
            finally:
                for _ in range(taken):
                    self._outgoing.task_done()

    async def _publish(self, events: list[Event]) -> None:
        if not events:
            return
        try:
            await self.res.bus.publish_many(events, headers=[ORIGIN_HEADER])
        except Exception as exc:
            log.warning("outbox_publish_deferred", error=type(exc).__name__, count=len(events))
            return  # the outbox relay publishes them
        with contextlib.suppress(Exception):
            async with self.res.sessionmaker() as session, session.begin():
                await forget_published(session, [e.event_id for e in events])

    # --- between polls ------------------------------------------------------------------------------

    async def _housekeeping(self, consumer: AIOKafkaConsumer) -> None:
        now = utcnow()
        self._apply_rebalance()
        if self._adopt:
            partitions, self._adopt = self._adopt, set()
            try:
                await self._adopt_partitions(consumer, partitions, now)
            except Exception as exc:
                self._adopt |= partitions
                log.warning("writer_adopt_failed", error=type(exc).__name__, where=error_location(exc))
        for account in list(self.accounts.values()):
            due = account.next_due()
            if due is not None and due <= now:
                account.fire_due(now)
        monotonic = time.monotonic()
        if monotonic >= self._next_tick:
            self._next_tick = monotonic + self.tick_seconds
            await self._tick(consumer, now, monotonic)
        await self._settle([a for a in self.accounts.values() if a.drain_wanted or a.batch.writes], now)
        for partition in self._fenced_partitions:
            self._pause(consumer, partition, FENCED_PAUSE_SECONDS)
        self._fenced_partitions.clear()
        for partition, until in list(self._paused.items()):
            if monotonic >= until:
                self._paused.pop(partition)
                with contextlib.suppress(Exception):
                    consumer.resume(TopicPartition(self.topic, partition))

    async def _tick(self, consumer: AIOKafkaConsumer, now: datetime, monotonic: float) -> None:
        """The safety net and the visitors' view: queues drained (hours opening, raised limits), positions
        pushed, presence read again (a socket whose heartbeat stopped), accounts with work adopted."""
        refresh_presence = monotonic >= self._next_presence
        if refresh_presence:
            self._next_presence = monotonic + self.presence_seconds
        # The previous tick's frames still on their way (a queue draining fast moves every position each tick):
        # this tick sends none, the next one sends the positions as they are then.
        push_frames = self._positions is None or self._positions.done()
        frames: list[PositionFrame] = []
        for account in list(self.accounts.values()):
            if account.queue:
                account.drain_wanted = True
            if refresh_presence:
                online = await presence.online_agents(self.res.redis, self.res.keys, account.account_id)
                for agent in account.agents.values():
                    if agent.online != (agent.id in online):
                        account.presence(agent.id, agent.id in online, now, give_back=False)
            if push_frames:
                frames += self._position_frames(account, now)
        if frames:
            self._positions = asyncio.create_task(self._push_positions(frames), name="router-writer-positions")
        if monotonic >= self._next_sweep:
            self._next_sweep = monotonic + self.sweep_seconds
            self._adopt |= self.partitions

    async def _push_positions(self, frames: list[PositionFrame]) -> None:
        """Every account's position frames, as hints (no dedupe id: a position is replaced by the next one) in
        pipelines of :data:`POSITION_FRAMES_PER_PIPELINE`, not one round trip per visitor, and behind the writer:
        a tick with thousands waiting must not hold up the decisions behind it. Frames that did not go out are
        sent again by a later tick."""
        for start in range(0, len(frames), POSITION_FRAMES_PER_PIPELINE):
            chunk = frames[start : start + POSITION_FRAMES_PER_PIPELINE]
            try:
                await self.res.streams.push_hints([frame.push for frame in chunk], per_pipeline=len(chunk))
            except Exception as exc:
                log.warning("queue_positions_deferred", error=type(exc).__name__, count=len(frames) - start)
                for frame in frames[start:]:
                    frame.account.published_positions.pop(frame.conversation_id, None)
                return

    def _position_frames(self, account: AccountRouting, now: datetime) -> list[PositionFrame]:
        """A frame for every waiting visitor whose position changed since the last one: position and estimated
        wait (unchanged positions send nothing)."""
        metrics.QUEUE_LENGTH.labels(str(account.account_id)).set(len(account.queue))
        if not account.queue:
            return []
        pace = account.seconds_per_place(now)
        frames = []
        for c, position in account.positions():
            if account.published_positions.get(c.id) == position or c.queued_at is None:
                continue
            frames.append(
                PositionFrame(
                    account,
                    c.id,
                    (
                        self.res.keys.contact_stream(c.contact_id),
                        {
                            "type": "queue.position",
                            "conversation_id": str(c.id),
                            "position": position,
                            "estimated_wait_seconds": round(position * pace),
                        },
                    ),
                )
            )
            account.published_positions[c.id] = position
        return frames
