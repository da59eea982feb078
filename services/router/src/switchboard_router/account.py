"""One account's routing state, held in memory by its writer, and every decision made on it.

The writer (switchboard_router.writer) loads this state when it takes the account over and keeps it current:
its own decisions are applied here as they are made (lifecycle outcomes), and everything else arrives as
commands and events in the account's partition. Nothing here does I/O: what a decision must write is gathered
in :class:`Batch` and committed by switchboard_router.store together with its outbox events.
"""

from __future__ import annotations

import heapq
import itertools
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sortedcontainers import SortedList
from switchboard_common.domain.conversations import business_hours, routing
from switchboard_common.domain.conversations import lifecycle as lc
from switchboard_common.domain.conversations.commands import CommandResult
from switchboard_common.domain.events import Event, RoutingCommandPayload
from switchboard_common.infra import metrics

from switchboard_router.candidates import Agent, CandidateIndex

EXCLUSION_WINDOW = timedelta(hours=1)
EXCLUDING_ACTIONS = frozenset({"offer_missed", "offer_rejected", "no_reply"})
PACE_WINDOW = timedelta(minutes=15)
DEFAULT_SECONDS_PER_PLACE = 60.0
ROW_FIELDS = (
    "status",
    "assignee_id",
    "queued_at",
    "priority",
    "team_id",
    "requirements",
    "version",
    "snoozed_until",
    "explanation",
)


@dataclass
class Batch:
    """What the writer decided for the account since its last commit (one transaction, fenced)."""

    rows: dict[uuid.UUID, lc.Conversation] = field(default_factory=dict)
    history: list[tuple[lc.Conversation, lc.HistoryEntry]] = field(default_factory=list)
    timers: dict[tuple[uuid.UUID, str], lc.Timer | None] = field(default_factory=dict)
    last_assigned: dict[uuid.UUID, datetime] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    replies: list[tuple[str, CommandResult]] = field(default_factory=list)
    # The last routing command (offset in the account's partition) this batch applies.
    offset: int | None = None
    decisions: int = 0

    @property
    def writes(self) -> bool:
        return bool(self.rows or self.history or self.timers or self.last_assigned or self.events or self.replies)


@dataclass(frozen=True)
class Settings:
    """The account's routing settings (switchboard_common.routing.account_routing) and its inboxes' and teams'."""

    routing: dict[str, Any]
    default_max: int
    inboxes: dict[uuid.UUID, dict[str, Any]]
    inbox_teams: dict[uuid.UUID, uuid.UUID | None]
    team_strategies: dict[uuid.UUID, str | None]

    @property
    def weights(self) -> dict[str, Any]:
        return dict(self.routing.get("channel_weights") or {})


class AccountRouting:
    def __init__(
        self,
        account_id: uuid.UUID,
        *,
        epoch: int,
        settings: Settings,
        agents: dict[uuid.UUID, Agent],
        conversations: dict[uuid.UUID, lc.Conversation],
        timers: dict[uuid.UUID, dict[str, lc.Timer]],
        exclusions: dict[uuid.UUID, dict[uuid.UUID, datetime]],
        recent_assignments: list[datetime],
        applied_offset: int | None = None,
    ) -> None:
        self.account_id = account_id
        self.epoch = epoch
        self.applied_offset = applied_offset
        self.settings = settings
        self.agents = agents
        self.conversations = conversations
        self.timers = timers
        self.exclusions = exclusions
        self.recent: deque[datetime] = deque(sorted(recent_assignments))
        # Contacts' last agents (sticky strategy): filled on demand by the store, kept by decisions.
        self.sticky: dict[uuid.UUID, tuple[uuid.UUID, datetime] | None] = {}
        self.index = CandidateIndex(agents, lc.lightest_weight(settings.weights))
        self.queue: SortedList = SortedList()
        self._queue_keys: dict[uuid.UUID, tuple[Any, ...]] = {}
        # Waiting conversations not yet announced as queued (no decision yet).
        self.unrouted: set[uuid.UUID] = set()
        self.held_by: dict[uuid.UUID, set[uuid.UUID]] = {}
        self._due: list[tuple[datetime, int, uuid.UUID, str]] = []
        self._sequence = itertools.count()
        self.published_positions: dict[uuid.UUID, int] = {}
        self.batch = Batch()
        self.drain_wanted = True
        self.recompute_loads()
        for conversation in conversations.values():
            self._requeue(conversation)
        for conversation_id, kinds in timers.items():
            for timer in kinds.values():
                self._push_due(conversation_id, timer)

    def reconfigure(self, settings: Settings, agents: dict[uuid.UUID, Agent]) -> None:
        """New settings, teams, skills or capacities (read again from the database)."""
        for agent in agents.values():
            current = self.agents.get(agent.id)
            if current is not None and (current.last_assigned or 0) > (agent.last_assigned or 0):
                agent.last_assigned = current.last_assigned
        self.settings = settings
        self.agents = agents
        self.index = CandidateIndex(agents, lc.lightest_weight(settings.weights))
        self.recompute_loads()
        self.drain_wanted = True

    def update_agents(self, loaded: dict[uuid.UUID, Agent]) -> None:
        """Agents read again (coming online: their capacity, skills and teams as they are now)."""
        for agent_id, fresh in loaded.items():
            agent = self.agents.get(agent_id)
            if agent is None:
                self.agents[agent_id] = agent = fresh
                for conversation_id in self.held_by.get(agent_id, ()):
                    agent.load += self.weight(self.conversations[conversation_id])
                    agent.held += 1
            else:
                agent.max_conversations = fresh.max_conversations
                agent.skills, agent.teams, agent.active = fresh.skills, fresh.teams, fresh.active
            agent.capacity = float(
                agent.max_conversations if agent.max_conversations is not None else self.settings.default_max
            )
            self.index.refresh(agent)
        self.drain_wanted = True

    # --- derived state ------------------------------------------------------------------------------

    def weight(self, c: lc.Conversation) -> float:
        return lc.channel_weight(c.channel, self.settings.weights)

    def recompute_loads(self) -> None:
        """Loads from scratch: what each agent holds (after a load or a change of weights or capacities)."""
        self.held_by = {}
        for agent in self.agents.values():
            agent.load, agent.held = 0.0, 0
            agent.capacity = float(
                agent.max_conversations if agent.max_conversations is not None else self.settings.default_max
            )
        for c in self.conversations.values():
            holder = lc.holder(c)
            if holder is not None:
                self.held_by.setdefault(holder, set()).add(c.id)
                if holder in self.agents:
                    self.agents[holder].load += self.weight(c)
                    self.agents[holder].held += 1
        self.index.set_lightest(lc.lightest_weight(self.settings.weights))
        for agent in self.agents.values():
            self.index.refresh(agent)

    def room(self, agent_id: uuid.UUID) -> lc.AgentRoom:
        agent = self.agents.get(agent_id)
        if agent is None or not agent.active:
            raise lc.Refused(404, "not_found", "agent not found")
        return lc.AgentRoom(agent_id, agent.load, agent.capacity)

    def inbox(self, c: lc.Conversation) -> dict[str, Any]:
        return self.settings.inboxes.get(c.inbox_id) or routing.inbox_routing(None)

    def _queue_key(self, c: lc.Conversation) -> tuple[Any, ...] | None:
        if not lc.is_waiting(c):
            return None
        waiting_since = (c.queued_at or c.created_at).timestamp()
        return (-c.priority, waiting_since, str(c.id), c.id)

    def _requeue(self, c: lc.Conversation) -> None:
        old = self._queue_keys.pop(c.id, None)
        new = self._queue_key(c) if c.id in self.conversations else None
        if new is not None and c.queued_at is None:
            self.unrouted.add(c.id)
        else:
            self.unrouted.discard(c.id)
        if old == new:
            if new is not None:
                self._queue_keys[c.id] = new
            return
        if old is not None:
            self.queue.remove(old)
        if new is not None:
            self.queue.add(new)
            self._queue_keys[c.id] = new
            self.drain_wanted = True

    def _push_due(self, conversation_id: uuid.UUID, timer: lc.Timer) -> None:
        heapq.heappush(self._due, (timer.due_at, next(self._sequence), conversation_id, timer.kind))

    def next_due(self) -> datetime | None:
        """When the earliest timer is due (stale heap entries are dropped on the way)."""
        while self._due:
            due_at, _, conversation_id, kind = self._due[0]
            timer = self.timers.get(conversation_id, {}).get(kind)
            if timer is not None and timer.due_at == due_at:
                return due_at
            heapq.heappop(self._due)
        return None

    # --- applying outcomes --------------------------------------------------------------------------

    def apply(self, outcome: lc.Outcome) -> None:
        """Makes a transition's outcome the state, and records what it must write."""
        before, after = outcome.before, outcome.after
        batch = self.batch
        old_holder, new_holder = lc.holder(before), lc.holder(after)
        if old_holder != new_holder:
            if old_holder is not None:
                self.held_by.get(old_holder, set()).discard(after.id)
            if new_holder is not None:
                self.held_by.setdefault(new_holder, set()).add(after.id)
        for agent_id, load, held in outcome.load_changes(self.weight(after)):
            agent = self.agents.get(agent_id)
            if agent is not None:
                agent.load += load
                agent.held += held
                self.index.refresh(agent)
                if load < 0:
                    self.drain_wanted = True
        if after.status in lc.ACTIVE_STATUSES:
            self.conversations[after.id] = after
        else:
            self.conversations.pop(after.id, None)
            self.published_positions.pop(after.id, None)
        self._requeue(after)
        if any(getattr(before, name) != getattr(after, name) for name in ROW_FIELDS):
            batch.rows[after.id] = after
        if outcome.timers:
            current = self.timers.get(after.id, {})
            updated = lc.apply_timer_changes(current, outcome.timers)
            for kind in current.keys() - updated.keys():
                batch.timers[(after.id, kind)] = None
            for kind, timer in updated.items():
                if current.get(kind) != timer:
                    batch.timers[(after.id, kind)] = timer
                    self._push_due(after.id, timer)
            if updated:
                self.timers[after.id] = updated
            else:
                self.timers.pop(after.id, None)
        for entry in outcome.history:
            batch.history.append((after, entry))
            if entry.action in EXCLUDING_ACTIONS and entry.agent_id is not None:
                self.exclusions.setdefault(after.id, {})[entry.agent_id] = entry.at
            if entry.action == "assigned":
                assigned_at = entry.at
                agent = self.agents.get(outcome.assigned_to) if outcome.assigned_to else None
                if agent is not None:
                    agent.last_assigned = assigned_at.timestamp()
                    self.index.refresh(agent)
                if outcome.assigned_to is not None:
                    batch.last_assigned[outcome.assigned_to] = assigned_at
                    self.sticky[after.contact_id] = (outcome.assigned_to, assigned_at)
                self.recent.append(assigned_at)
        batch.events.extend(outcome.events)
        if outcome.changed:
            batch.decisions += 1

    # --- placing ------------------------------------------------------------------------------------

    def team_of(self, c: lc.Conversation) -> uuid.UUID | None:
        return c.team_id or self.settings.inbox_teams.get(c.inbox_id)

    def strategy_of(self, c: lc.Conversation, team_id: uuid.UUID | None) -> str:
        strategy = self.settings.team_strategies.get(team_id) if team_id is not None else None
        strategy = strategy or self.inbox(c)["strategy"]
        return strategy if strategy in routing.STRATEGIES else "least_busy"

    def needs(self, c: lc.Conversation) -> tuple[frozenset[str], frozenset[str]]:
        config = self.inbox(c)
        requirements = c.requirements or {}
        required = frozenset(config["required_skills"]) | frozenset(requirements.get("required", []))
        preferred = frozenset(config["preferred_skills"]) | frozenset(requirements.get("preferred", []))
        return required, preferred

    def excluded(self, c: lc.Conversation, now: datetime) -> set[uuid.UUID]:
        recent = self.exclusions.get(c.id)
        if not recent:
            return set()
        return {agent for agent, at in recent.items() if at > now - EXCLUSION_WINDOW}

    @property
    def uses_sticky(self) -> bool:
        return any(config.get("strategy") == "sticky" for config in self.settings.inboxes.values()) or any(
            strategy == "sticky" for strategy in self.settings.team_strategies.values()
        )

    def sticky_contacts_unknown(self) -> set[uuid.UUID]:
        """Waiting conversations' contacts whose previous agent the store must look up (sticky strategy)."""
        unknown: set[uuid.UUID] = set()
        if not self.uses_sticky:
            return unknown
        for entry in self.queue:
            c = self.conversations[entry[-1]]
            if c.contact_id not in self.sticky and self.strategy_of(c, self.team_of(c)) == "sticky":
                unknown.add(c.contact_id)
        return unknown

    def place(self, c: lc.Conversation, now: datetime) -> bool:
        """Assigns, offers or queues one waiting conversation; whether an agent got it."""
        config = self.inbox(c)
        team_id = self.team_of(c)
        strategy = self.strategy_of(c, team_id)
        escalation = float(config.get("escalation_seconds") or 0)
        hours = config.get("business_hours")
        if not business_hours.is_open(hours, now):
            self.apply(
                lc.queue(
                    c,
                    now=now,
                    explanation={"strategy": strategy, "outcome": "outside_business_hours"},
                    escalation_seconds=escalation,
                    opening=business_hours.next_opening(hours, now),
                    out_of_hours_message=str(config["out_of_hours_message"]),
                )
            )
            return False
        required, preferred = self.needs(c)
        weight = self.weight(c)
        previous = None
        if strategy == "sticky":
            known = self.sticky.get(c.contact_id)
            window = timedelta(seconds=float(config["sticky_window_seconds"]))
            if known is not None and known[1] > now - window:
                previous = known[0]
        choice = self.index.choose(
            strategy,
            team=team_id,
            weight=weight,
            required=required,
            preferred=preferred,
            previous_agent=previous,
            excluded=self.excluded(c, now),
        )
        if team_id is not None:
            choice.explanation["team_id"] = str(team_id)
        if choice.agent_id is None:
            outcome = lc.queue(c, now=now, explanation=choice.explanation, escalation_seconds=escalation)
            if outcome.changed:
                metrics.ASSIGNMENTS.labels(strategy, "queued").inc()
            self.apply(outcome)
            return False
        if c.queued_at is not None:
            metrics.QUEUE_WAIT_SECONDS.observe(max((now - c.queued_at).total_seconds(), 0))
        agent = self.room(choice.agent_id)
        offer_seconds = float(config.get("offer_timeout_seconds") or 0)
        if offer_seconds > 0:
            outcome = lc.offer(
                c,
                agent,
                weight=weight,
                now=now,
                seconds=offer_seconds,
                strategy=strategy,
                explanation=choice.explanation,
            )
            metrics.ASSIGNMENTS.labels(strategy, "offered").inc()
        else:
            outcome = lc.assign(
                c,
                agent,
                weight=weight,
                now=now,
                strategy=strategy,
                explanation=choice.explanation,
                reason="routed",
                first_response_seconds=float(config.get("first_response_seconds") or 0),
            )
            metrics.ASSIGNMENTS.labels(strategy, "assigned").inc()
        self.apply(outcome)
        return True

    @staticmethod
    def _class(c: lc.Conversation) -> tuple[Any, ...]:
        """Conversations that succeed or fail together in one drain (same pool, needs and weight)."""
        return (c.inbox_id, c.team_id, tuple((c.requirements or {}).get("required", ())), c.channel)

    def drain(self, now: datetime, budget: int) -> int:
        """Places waiting conversations, highest priority then longest waiting first, while someone has room
        (at most ``budget`` decisions; :attr:`drain_wanted` stays set when there is more). Conversations
        nobody can take now are announced as queued."""
        self.drain_wanted = False
        decided = 0
        failed: set[tuple[Any, ...]] = set()
        if self.queue and self.index.any_room():
            for entry in list(self.queue):
                c = self.conversations.get(entry[-1])
                if c is None or not lc.is_waiting(c):
                    continue
                kind = self._class(c)
                if kind in failed:
                    continue
                if decided >= budget:
                    self.drain_wanted = True
                    return decided
                decided += 1
                if not self.place(c, now):
                    failed.add(kind)
                if not self.index.any_room():
                    break
        for conversation_id in list(self.unrouted):
            if decided >= budget:
                self.drain_wanted = True
                break
            decided += 1
            self.place(self.conversations[conversation_id], now)
        return decided

    # --- commands and events ------------------------------------------------------------------------

    def adopt(self, c: lc.Conversation, timers: dict[str, lc.Timer]) -> None:
        """A conversation the writer did not hold (new, or read back for a command) joins the state."""
        if c.id in self.conversations or c.status not in lc.ACTIVE_STATUSES:
            return
        self.conversations[c.id] = c
        if timers:
            self.timers[c.id] = dict(timers)
            for timer in timers.values():
                self._push_due(c.id, timer)
        holder = lc.holder(c)
        if holder is not None:
            self.held_by.setdefault(holder, set()).add(c.id)
            agent = self.agents.get(holder)
            if agent is not None:
                agent.load += self.weight(c)
                agent.held += 1
                self.index.refresh(agent)
        self._requeue(c)

    def message(self, conversation_id: uuid.UUID, now: datetime, **fields: Any) -> None:
        c = self.conversations.get(conversation_id)
        if c is None:
            return  # resolved, spam or gone: a new message starts a new conversation (ingest)
        seconds = float(self.inbox(c).get("auto_resolve_seconds") or 0)
        self.apply(lc.message(c, now=now, auto_resolve_seconds=seconds, **fields))

    def prioritise(self, conversation_id: uuid.UUID, at_least: int, now: datetime) -> None:
        """An SLA breach asks for at least this priority (docs/reports.md): a waiting conversation moves up the
        queue; "at least" makes a redelivered breach change nothing."""
        c = self.conversations.get(conversation_id)
        if c is not None:
            self.apply(lc.prioritise(c, at_least, now=now))

    def status_changed(self, conversation_id: uuid.UUID, status: str, handoff: dict[str, Any] | None) -> None:
        """Another service changed the conversation's status (the bot handing over, say)."""
        c = self.conversations.get(conversation_id)
        if c is None or c.status == status:
            if c is not None and handoff:
                self.apply(lc.handoff(c, handoff))
            return
        if status == "open" and c.status == "bot":
            self.apply(lc.handoff(c, handoff or {}))
            return
        after = replace(
            c,
            status=status,
            snoozed_until=c.snoozed_until if status == "snoozed" else None,
            offer=c.offer if status == "open" else None,
        )
        self.apply(lc.Outcome(before=c, after=after, route=lc.is_waiting(after)))

    def presence(self, agent_id: uuid.UUID, online: bool, now: datetime, *, give_back: bool) -> None:
        agent = self.agents.get(agent_id)
        if agent is None:
            return
        if agent.online != online:
            agent.online = online
            self.index.refresh(agent)
            if online:
                self.drain_wanted = True
        if not online and give_back and self.settings.routing.get("give_back_on_offline", True):
            for conversation_id in list(self.held_by.get(agent_id, ())):
                c = self.conversations.get(conversation_id)
                if c is not None and c.assignee_id == agent_id:
                    self.apply(lc.give_back(c, now=now))

    def fire_due(self, now: datetime) -> int:
        """Every timer due at ``now``: its lifecycle outcome."""
        fired = 0
        while (due_at := self.next_due()) is not None and due_at <= now:
            _, _, conversation_id, kind = heapq.heappop(self._due)
            kinds = self.timers.get(conversation_id, {})
            timer = kinds.pop(kind)
            if not kinds:
                self.timers.pop(conversation_id, None)
            self.batch.timers[(conversation_id, kind)] = None
            c = self.conversations.get(conversation_id)
            fired += 1
            if c is None:
                continue
            if kind == "offer" and timer.agent_id is not None and c.offer is None:
                c = replace(c, offer=lc.Offer(timer.agent_id, timer.due_at))
            outcome = lc.fire(c, timer, lc.TimerContext(now=now, inbox=self.inbox(c)))
            self.apply(outcome)
        return fired

    def command(self, c: lc.Conversation | None, payload: RoutingCommandPayload, now: datetime) -> CommandResult:
        """A manual action (the gateway's API) on one conversation: its outcome, or why it was refused."""
        if c is None:
            return CommandResult(404, "not_found", "conversation not found")
        try:
            outcome = self._transition(c, payload, now)
        except lc.Refused as refused:
            return CommandResult(refused.status, refused.code, refused.message, refused.details)
        data = {"previous_status": c.status}
        if outcome.changed:
            self.apply(outcome)
        return CommandResult(200, data=data)

    def _give_to(
        self, c: lc.Conversation, target: uuid.UUID, now: datetime, *, reason: str, note: str | None
    ) -> lc.Outcome:
        return lc.assign(
            c,
            self.room(target),
            weight=self.weight(c),
            now=now,
            strategy="manual",
            explanation={"strategy": "manual", "outcome": reason, "chosen": str(target)},
            reason=reason,
            note=note,
            first_response_seconds=float(self.inbox(c).get("first_response_seconds") or 0),
        )

    def _transition(self, c: lc.Conversation, p: RoutingCommandPayload, now: datetime) -> lc.Outcome:
        actor = p.actor_id
        if p.action == "assign":
            assert p.agent_id is not None
            reason = "assigned_by_admin" if p.agent_id != actor else "self_assigned"
            return self._give_to(c, p.agent_id, now, reason=reason, note=p.note)
        if p.action == "claim":
            assert actor is not None
            if c.status != "open" or c.assignee_id is not None:
                raise lc.Refused(409, "not_claimable", "the conversation is not waiting in the queue")
            if c.offer is not None and c.offer.agent_id != actor:
                raise lc.Refused(409, "not_claimable", "the conversation is offered to another agent")
            return self._give_to(c, actor, now, reason="claimed", note=None)
        if p.action == "accept":
            assert actor is not None
            return lc.accept(
                c,
                self.room(actor),
                weight=self.weight(c),
                now=now,
                first_response_seconds=float(self.inbox(c).get("first_response_seconds") or 0),
            )
        if p.action == "reject":
            assert actor is not None
            return lc.reject(c, actor, now=now)
        if p.action == "transfer":
            if c.assignee_id != actor and not p.actor_admin:
                raise lc.Refused(403, "forbidden", "only the assignee or an admin can transfer")
            if p.agent_id is not None:
                return self._give_to(c, p.agent_id, now, reason="transfer", note=p.note)
            if p.team_id is None or p.team_id not in self.settings.team_strategies:
                raise lc.Refused(404, "not_found", "team not found")
            assert actor is not None
            return lc.transfer_to_team(c, p.team_id, now=now, actor_id=actor, note=p.note)
        if p.action == "unassign":
            assert actor is not None
            return lc.unassign_by(c, now=now, actor_id=actor, admin=p.actor_admin)
        if p.action == "resolve":
            return lc.resolve(c, now=now, actor_id=actor)
        if p.action == "pending":
            return lc.set_pending(c, now=now, actor_id=actor)
        if p.action == "snooze":
            assert p.until is not None
            return lc.snooze(c, p.until, now=now, actor_id=actor)
        if p.action == "reopen":
            assert actor is not None
            keep = None
            if c.assignee_id is not None and c.assignee_id in self.agents:
                keep = self.room(c.assignee_id)
            return lc.reopen(
                c, now=now, actor_id=actor, assignee=keep, weight=self.weight(c), newer_open=self._newer_open(c)
            )
        if p.action in ("spam", "not_spam"):
            return lc.mark_spam(c, p.action == "spam", now=now, actor_id=actor)
        raise lc.Refused(422, "unknown_action", f"unknown routing action {p.action}")

    def _newer_open(self, c: lc.Conversation) -> uuid.UUID | None:
        if c.status != "resolved":
            return None
        for other in self.conversations.values():
            if (
                other.id != c.id
                and other.inbox_id == c.inbox_id
                and other.contact_id == c.contact_id
                and other.status != "resolved"
            ):
                return other.id
        return None

    # --- the queue as visitors see it ---------------------------------------------------------------

    def positions(self) -> Iterator[tuple[lc.Conversation, int]]:
        """Waiting conversations (not offered) with their 1-based positions."""
        for position, entry in enumerate(self.queue, start=1):
            yield self.conversations[entry[-1]], position

    def seconds_per_place(self, now: datetime) -> float:
        """How long the queue takes to move by one place lately (assignments in the last 15 minutes)."""
        while self.recent and self.recent[0] <= now - PACE_WINDOW:
            self.recent.popleft()
        if not self.recent:
            return DEFAULT_SECONDS_PER_PLACE
        return PACE_WINDOW.total_seconds() / len(self.recent)
