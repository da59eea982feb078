"""SLA clocks at run time: a consumer keeps each conversation's clocks current from its events, and a timer
worker breaches the clocks that reach their due time.

Both store into ``conversation_sla`` (one row per conversation, locked ``FOR UPDATE`` while changed). The
row's ``check_at`` is a durable timer: any number of router replicas take due rows with ``SKIP LOCKED``, so
each due row is handled by one replica, and a restart loses nothing (the row is still due). A breach is
recorded in the row in the same transaction that stages its event in the outbox, and the event id is derived
from (conversation, target, cycle): each clock breaches exactly once, whoever notices it first — the timer
at the due time, or the consumer applying a late reply after it. The rules themselves are pure
(:mod:`switchboard_common.domain.sla.clock`); why this is a table of its own and not a routing timer is in
docs/reports.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts.tenancy import cross_tenant_session, session_tenant, tenant_session
from switchboard_common.domain.conversations import routing
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.events import (
    ConversationAssigned,
    ConversationCreated,
    ConversationLabelsChanged,
    ConversationSlaBreached,
    ConversationSlaBreachedPayload,
    ConversationSlaUpdated,
    ConversationSlaUpdatedPayload,
    ConversationStatusChanged,
    ConversationUnassigned,
    Event,
    MessageCreated,
)
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.domain.sla import clock, policies
from switchboard_common.domain.sla.models import ConversationSla
from switchboard_common.infra.bus import CONVERSATIONS_TOPIC, EventConsumer, EventFilter
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.outbox import add_events, publish_staged
from switchboard_common.infra.periodic import PeriodicWorker
from switchboard_common.infra.runtime import Resources

SLA_NAMESPACE = uuid.UUID("5b0f3f8e-2f9a-4c51-9d0e-6c1a3b7d2e44")
SLA_EVENT_TYPES = frozenset(
    {
        "conversation.created",
        "message.created",
        "conversation.status_changed",
        "conversation.assigned",
        "conversation.unassigned",
        "conversation.labels_changed",
    }
)
CACHE_SECONDS = 2.0
# Events settled per transaction. The consumer shares its event loop with the routing writer: after a drain its
# backlog (thousands of decision events) came in polls of 500, each settled in one transaction whose row loads,
# clock evaluations and flush ran 0.1-0.3 s without letting the loop go, and an agent coming online waited that
# long to get a conversation (placement p99 309 ms in make bench). Slices of this many, with the loop let go
# between them, hold it a few tens of milliseconds at most.
SETTLE_SLICE = 50
# The clock rows of a poll's new conversations, in one statement whatever their number: its SQL is the same for
# every poll (compiled once, a prepared statement), where a multi-row VALUES list was compiled anew for each
# poll's count (a fifth of the router's CPU while it routed 2,000 conversations a second).
CREATE_ROWS = text(
    """
    INSERT INTO conversation_sla (conversation_id, account_id, inbox_id, team_id, state, labels, breached, summary,
                                  updated_at)
    SELECT r.conversation_id, r.account_id, r.inbox_id, r.team_id, CAST(r.state AS jsonb), '[]', '[]', '{}', :now
      FROM unnest(CAST(:ids AS uuid[]), CAST(:accounts AS uuid[]), CAST(:inboxes AS uuid[]),
                  CAST(:teams AS uuid[]), CAST(:states AS text[]))
           AS r(conversation_id, account_id, inbox_id, team_id, state)
    ON CONFLICT (conversation_id) DO NOTHING
    """
)


# Every clock row a poll (or a timer round) changed, in one statement: the same SQL whatever their number.
STORE_ROWS = text(
    """
    UPDATE conversation_sla c
       SET team_id = r.team_id, policy_id = r.policy_id, state = CAST(r.state AS jsonb),
           labels = CAST(r.labels AS jsonb), breached = CAST(r.breached AS jsonb),
           summary = CAST(r.summary AS jsonb), check_at = r.check_at, updated_at = :now
      FROM unnest(CAST(:ids AS uuid[]), CAST(:accounts AS uuid[]), CAST(:teams AS uuid[]),
                  CAST(:policies AS uuid[]), CAST(:states AS text[]), CAST(:labels AS text[]),
                  CAST(:breached AS text[]), CAST(:summaries AS text[]), CAST(:checks AS timestamptz[]))
           AS r(conversation_id, account_id, team_id, policy_id, state, labels, breached, summary, check_at)
     WHERE c.conversation_id = r.conversation_id AND c.account_id = r.account_id
    """
)


async def store_rows(session: AsyncSession, rows: list[ConversationSla]) -> None:
    """Writes ``rows`` (loaded and changed in ``session``) with :data:`STORE_ROWS`. The session forgets them
    first, so neither the statement's autoflush nor the commit writes them again, one UPDATE per row."""
    if not rows:
        return
    values = {
        "ids": [r.conversation_id for r in rows],
        "accounts": [r.account_id for r in rows],
        "teams": [r.team_id for r in rows],
        "policies": [r.policy_id for r in rows],
        "states": [json.dumps(r.state) for r in rows],
        "labels": [json.dumps(r.labels or []) for r in rows],
        "breached": [json.dumps(r.breached or [], default=str) for r in rows],
        "summaries": [json.dumps(r.summary or {}, default=str) for r in rows],
        "checks": [r.check_at for r in rows],
        "now": utcnow(),
    }
    for row in rows:
        session.expunge(row)
    await session.execute(STORE_ROWS, values)


def breach_event_id(conversation_id: uuid.UUID, breach: clock.Breach) -> uuid.UUID:
    return uuid.uuid5(SLA_NAMESPACE, f"{conversation_id}:{breach.target}:{breach.cycle}")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class SlaClocks:
    """Reads an account's policies and an inbox's business hours (briefly cached for the consumer; the timer
    worker reads them fresh, so a policy change reaches every clock on its next check)."""

    def __init__(self, res: Resources) -> None:
        self.res = res
        self._policies: dict[uuid.UUID, tuple[float, policies.AccountPolicies]] = {}
        self._hours: dict[uuid.UUID, tuple[float, dict[str, Any] | None]] = {}

    async def policies(self, session: AsyncSession, account_id: uuid.UUID, *, fresh: bool) -> policies.AccountPolicies:
        hit = self._policies.get(account_id)
        if not fresh and hit is not None and hit[0] > time.monotonic():
            return hit[1]
        if session_tenant(session) == account_id:
            loaded = await policies.load(session, account_id)
        else:
            # The batch and the timer worker hold a cross-tenant transaction over several accounts' clocks; the
            # policies are the account's own rows, read in a session scoped to it (a short read of its own).
            async with tenant_session(self.res.sessionmaker, account_id) as scoped:
                loaded = await policies.load(scoped, account_id)
        if len(self._policies) > 10_000:
            self._policies.clear()
        self._policies[account_id] = (time.monotonic() + CACHE_SECONDS, loaded)
        return loaded

    async def hours(self, session: AsyncSession, inbox_id: uuid.UUID, *, fresh: bool) -> dict[str, Any] | None:
        hit = self._hours.get(inbox_id)
        if not fresh and hit is not None and hit[0] > time.monotonic():
            return hit[1]
        inbox = await session.get(Inbox, inbox_id)
        hours = routing.inbox_routing(inbox).get("business_hours") if inbox is not None else None
        if len(self._hours) > 10_000:
            self._hours.clear()
        self._hours[inbox_id] = (time.monotonic() + CACHE_SECONDS, hours)
        return hours

    async def context(
        self, session: AsyncSession, row: ConversationSla, *, fresh: bool
    ) -> tuple[clock.Policy | None, dict[str, Any] | None]:
        account = await self.policies(session, row.account_id, fresh=fresh)
        policy = account.resolve(row.inbox_id, row.team_id, row.labels or [])
        if policy is None or not policy.business_hours_only:
            return policy, None
        return policy, await self.hours(session, row.inbox_id, fresh=fresh)

    async def settle(
        self,
        session: AsyncSession,
        row: ConversationSla,
        state: clock.SlaState,
        policy: clock.Policy | None,
        hours: dict[str, Any] | None,
        now: datetime,
        earlier: list[tuple[clock.Breach, clock.Policy]] | None = None,
    ) -> list[Event]:
        """Breaches what is due at ``now``, schedules the next check and stores the row; returns the events
        to stage (breaches, also ``earlier`` ones, and the new ``sla`` object when it changed)."""
        state, found, check_at = clock.evaluate(state, now, policy, hours)
        breaches = [*(earlier or []), *((b, policy) for b in found if policy is not None)]
        events: list[Event] = []
        if breaches:
            conversation = await session.get(Conversation, row.conversation_id)
            raised = sum(p.raise_priority for _b, p in breaches)
            priority = None
            if conversation is not None and raised > 0 and conversation.status == "open":
                priority = conversation.priority + raised
            for breach, breached_policy in breaches:
                row.breached = [*(row.breached or []), breach.to_json()]
                events.append(
                    ConversationSlaBreached(
                        event_id=breach_event_id(row.conversation_id, breach),
                        tenant_id=row.account_id,
                        conversation_id=row.conversation_id,
                        occurred_at=now,
                        payload=ConversationSlaBreachedPayload(
                            inbox_id=row.inbox_id,
                            policy_id=uuid.UUID(breached_policy.id),
                            target=breach.target,
                            due_at=breach.due_at,
                            cycle=breach.cycle,
                            agent_id=conversation.assignee_id if conversation is not None else None,
                            team_id=row.team_id,
                            priority=priority,
                        ),
                    )
                )
        row.state = state.to_json()
        row.policy_id = uuid.UUID(policy.id) if policy is not None else None
        row.check_at = check_at
        summary = _jsonable(clock.summary(state, policy, hours, row.breached or []))
        if summary != (row.summary or {}) and (policy is not None or row.summary):
            row.summary = summary
            events.append(
                ConversationSlaUpdated(
                    event_id=uuid.uuid5(SLA_NAMESPACE, f"{row.conversation_id}:updated:{_digest(summary)}:{now}"),
                    tenant_id=row.account_id,
                    conversation_id=row.conversation_id,
                    occurred_at=now,
                    payload=ConversationSlaUpdatedPayload(inbox_id=row.inbox_id, policy_id=row.policy_id, sla=summary),
                )
            )
        return events


def _jsonable(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in summary.items()}


def _digest(summary: dict[str, Any]) -> str:
    return str(sorted((k, str(v)) for k, v in summary.items()))


class SlaConsumer:
    """Keeps each conversation's clocks current from its events (group ``router-sla``, in conversation order)."""

    def __init__(self, resources: Resources, clocks: SlaClocks | None = None) -> None:
        self.res = resources
        self.clocks = clocks or SlaClocks(resources)

    def consumer(self) -> EventConsumer:
        return EventConsumer(
            self.res.settings,
            group="router-sla",
            # Clocks run on event time (occurred_at), not on when the consumer sees an event, and the breach
            # timer is a durable row: a few polls a second, each settled in one transaction, change no deadline
            # and spare the broker a fetch every 40 ms.
            background=True,
            topics=[CONVERSATIONS_TOPIC],
            handler=self.handle,
            bus=self.res.bus,
            accepts=EventFilter(types=SLA_EVENT_TYPES),
            # A poll's events are settled together: one transaction, one locking read (a transaction and five
            # round trips per event cost the router more CPU than its routing decisions).
            batch_handler=self.handle_batch,
            batch_types=SLA_EVENT_TYPES,
        )

    async def handle_batch(self, batch: list[tuple[Event, ConsumerRecord]]) -> None:
        """A run of events in one transaction: one locking read takes the rows of all their conversations (in
        id order, so replicas cannot deadlock), conversations that have none yet (their first events) get theirs
        in bulk, each event is applied in order in memory, in slices of :data:`SETTLE_SLICE` with the loop let
        go between them, and one UPDATE stores every changed row (:func:`store_rows`). A batch that fails is
        handled again event by event (:meth:`handle`)."""
        # Each event with its conversation id (known to be set from here on).
        events = [
            (e.conversation_id, e) for e, _r in batch if e.conversation_id is not None and e.type in SLA_EVENT_TYPES
        ]
        if not events:
            return
        staged: list[Event] = []
        async with cross_tenant_session(self.res.sessionmaker) as session, session.begin():
            rows = await self._locked(session, {conversation_id for conversation_id, _e in events})
            missing: dict[uuid.UUID, set[uuid.UUID]] = {}
            for conversation_id, event in events:
                if conversation_id not in rows:
                    missing.setdefault(event.tenant_id, set()).add(conversation_id)
            for account_id, conversation_ids in missing.items():
                rows.update(await self._create_rows(session, account_id, conversation_ids))
            changed: dict[uuid.UUID, ConversationSla] = {}
            # Rows change in memory only: the reads between (inboxes, a breached conversation) must not flush
            # them one UPDATE each.
            with session.no_autoflush:
                for start in range(0, len(events), SETTLE_SLICE):
                    if start:
                        await asyncio.sleep(0)  # the writer's decisions wait for no more than a slice
                    for conversation_id, event in events[start : start + SETTLE_SLICE]:
                        row = rows.get(conversation_id)
                        # Erased, not stored yet, or another account's conversation id: nothing to time.
                        if row is None or row.account_id != event.tenant_id:
                            continue
                        staged += await self.apply(session, row, event, now=utcnow())
                        changed[conversation_id] = row
            await store_rows(session, list(changed.values()))
            add_events(session, staged)
        await publish_staged(self.res.sessionmaker, self.res.bus, staged)

    @staticmethod
    async def _locked(session: AsyncSession, conversation_ids: set[uuid.UUID]) -> dict[uuid.UUID, ConversationSla]:
        found = await session.scalars(
            select(ConversationSla)
            .where(ConversationSla.conversation_id.in_(sorted(conversation_ids)))
            .order_by(ConversationSla.conversation_id)
            .with_for_update()
        )
        return {row.conversation_id: row for row in found.all()}

    async def _create_rows(
        self, session: AsyncSession, account_id: uuid.UUID, conversation_ids: set[uuid.UUID]
    ) -> dict[uuid.UUID, ConversationSla]:
        """Clock rows for the account's conversations that have none (as :meth:`_row` does for one), locked."""
        conversations = (
            await session.scalars(
                select(Conversation).where(
                    Conversation.id.in_(sorted(conversation_ids)), Conversation.account_id == account_id
                )
            )
        ).all()
        if not conversations:
            return {}
        inbox_ids = {c.inbox_id for c in conversations}
        inboxes = {i.id: i for i in (await session.scalars(select(Inbox).where(Inbox.id.in_(inbox_ids)))).all()}
        initial = {status: json.dumps(clock.SlaState(status=status).to_json()) for status in ("bot", "open")}
        await session.execute(
            CREATE_ROWS,
            {
                "ids": [c.id for c in conversations],
                "accounts": [c.account_id for c in conversations],
                "inboxes": [c.inbox_id for c in conversations],
                "teams": [routing.routed_team_id(c, inboxes.get(c.inbox_id)) for c in conversations],
                "states": [initial["bot" if c.status == "bot" else "open"] for c in conversations],
                "now": utcnow(),
            },
        )
        return await self._locked(session, {c.id for c in conversations})

    async def handle(self, event: Event, _record: ConsumerRecord | None = None) -> None:
        if event.conversation_id is None or event.type not in SLA_EVENT_TYPES:
            return
        async with tenant_session(self.res.sessionmaker, event.tenant_id, begin=True) as session:
            row = await self._row(session, event)
            if row is None:
                return
            events = await self.apply(session, row, event, now=utcnow())
            add_events(session, events)
        await publish_staged(self.res.sessionmaker, self.res.bus, events)

    async def _row(self, session: AsyncSession, event: Event) -> ConversationSla | None:
        row = await session.scalar(
            select(ConversationSla).where(ConversationSla.conversation_id == event.conversation_id).with_for_update()
        )
        if row is not None:
            return row
        conversation = await session.scalar(select(Conversation).where(Conversation.id == event.conversation_id))
        if conversation is None:
            return None  # erased, or not stored yet: nothing to time
        inbox = await session.get(Inbox, conversation.inbox_id)
        initial = clock.SlaState(status="bot" if conversation.status == "bot" else "open")
        await session.execute(
            insert(ConversationSla)
            .values(
                conversation_id=conversation.id,
                account_id=conversation.account_id,
                inbox_id=conversation.inbox_id,
                team_id=routing.routed_team_id(conversation, inbox),
                state=initial.to_json(),
                labels=[],
                breached=[],
                summary={},
            )
            .on_conflict_do_nothing(index_elements=["conversation_id"])
        )
        return await session.scalar(
            select(ConversationSla).where(ConversationSla.conversation_id == event.conversation_id).with_for_update()
        )

    async def apply(self, session: AsyncSession, row: ConversationSla, event: Event, *, now: datetime) -> list[Event]:
        at = _aware(event.occurred_at)
        if isinstance(event, MessageCreated):
            at = _aware(event.payload.created_at)
        policy, hours = await self.clocks.context(session, row, fresh=False)
        # What was due before this event happened breaches first (a reply after the due time is late).
        state, early, _ = clock.evaluate(clock.SlaState.from_json(row.state), min(at, now), policy, hours)
        earlier = [(breach, policy) for breach in early if policy is not None]
        if isinstance(event, ConversationUnassigned) and event.payload.team_id is not None:
            row.team_id = event.payload.team_id
        elif isinstance(event, ConversationStatusChanged) and (
            handoff_team := (event.payload.handoff or {}).get("team_id")
        ):
            with contextlib.suppress(ValueError):
                row.team_id = uuid.UUID(str(handoff_team))
        elif isinstance(event, ConversationLabelsChanged):
            row.labels = sorted(set(event.payload.labels))
        policy, hours = await self.clocks.context(session, row, fresh=False)
        state = self._signal(state, event, at, policy, hours)
        return await self.clocks.settle(session, row, state, policy, hours, max(at, now), earlier)

    @staticmethod
    def _signal(
        state: clock.SlaState,
        event: Event,
        at: datetime,
        policy: clock.Policy | None,
        hours: dict[str, Any] | None,
    ) -> clock.SlaState:
        if isinstance(event, ConversationCreated):
            return clock.opened(state, at) if event.payload.status == "open" else state
        if isinstance(event, ConversationAssigned):
            return clock.opened(state, at)  # an agent taking over from the bot opens it for humans
        if isinstance(event, ConversationStatusChanged):
            status = event.payload.status
            if status == "open" and not state.opened:
                return clock.opened(state, at)
            return clock.status_changed(state, status, at, policy, hours)
        if isinstance(event, MessageCreated):
            p = event.payload
            if p.direction == "inbound" and p.sender_type == "contact":
                return clock.customer_wrote(state, at, policy)
            if p.direction == "outbound" and p.sender_type == "agent" and not getattr(p, "private", False):
                return clock.agent_replied(state, at, hours)
        return state


async def run_due_sla(
    res: Resources, now: datetime | None = None, *, limit: int = 200, clocks: SlaClocks | None = None
) -> int:
    """Checks every conversation whose SLA is due at ``now`` (breaches, policy changes); returns how many."""
    now = now or utcnow()
    clocks = clocks or SlaClocks(res)
    events: list[Event] = []
    # Due clocks of every account, each settled with its own row's ids.
    async with cross_tenant_session(res.sessionmaker) as session, session.begin():
        rows = (
            await session.scalars(
                select(ConversationSla)
                .where(ConversationSla.check_at <= now)
                .order_by(ConversationSla.check_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        with session.no_autoflush:
            for row in rows:
                policy, hours = await clocks.context(session, row, fresh=True)
                events += await clocks.settle(session, row, clock.SlaState.from_json(row.state), policy, hours, now)
        await store_rows(session, list(rows))
        add_events(session, events)
    await publish_staged(res.sessionmaker, res.bus, events)
    return len(rows)


class SlaTimerWorker(PeriodicWorker):
    """Breaches due clocks every ``interval`` seconds (a durable timer table: safe with any number of replicas)."""

    name = "router-sla-timers"

    def __init__(self, res: Resources, *, interval: float = 0.5) -> None:
        super().__init__(interval)
        self.res = res
        self.clocks = SlaClocks(res)

    async def tick(self) -> int:
        return await run_due_sla(self.res, clocks=self.clocks)
