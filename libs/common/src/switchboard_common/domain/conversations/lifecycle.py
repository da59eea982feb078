"""The conversation lifecycle: its states, every transition between them, and the one capacity rule.

Pure: no I/O and no clock of its own (every transition takes ``now``), so the router's writer, its timers
and the property tests all run the same rules. A transition takes a :class:`Conversation` (the routing view
of one conversation) and returns an :class:`Outcome`: the conversation after it, plus what it makes happen —
events to publish, routing-history entries, timers to set or cancel, and (derived) the change in agents'
loads. A transition that is not allowed raises :class:`Refused` (an HTTP status and a machine-readable code).

States (exactly one at a time, :func:`state_of`)::

    bot ──handoff──▶ unrouted ──queue──▶ queued ──offer──▶ offered ──accept──▶ assigned
                        │  ▲               │  ▲              │ reject/miss          │  ▲
                        │  └──unassign/────┴──┼──────────────┘                      │  │
                        │     no_reply        └───────── assign / claim ◀───────────┘  │ transfer
                        └──────────────────── assign ──────────────────────────────────┘
    assigned/queued ──pending──▶ pending ──wake──▶ open      ──snooze──▶ snoozed ──wake──▶ open
    any ──resolve──▶ resolved ──reopen──▶ open          open ──spam──▶ spam ──not spam──▶ unrouted

Capacity (:func:`fits`): an agent's load is the sum of the channel weights (in (0, 100], default 1) of the
conversations they *hold* — assigned to them in status open, pending or snoozed, or offered to them — and a
conversation fits when ``load + weight <= capacity``. :func:`holder` says who holds a conversation; an
outcome's :meth:`Outcome.load_changes` is the difference of holders before and after, so loads kept by
adding those changes always equal loads recomputed from scratch (the property tests check it).

Timers are the extension point for due-time rules (offers, snooze, no-reply, auto-resolve, escalation,
business hours; SLA timers build on it): a transition schedules :class:`Timer` values (one per conversation
and kind; scheduling a kind again replaces it) or cancels kinds (:class:`CancelTimers`); when one is due the
runtime calls :func:`fire`, which dispatches to the handler registered for its kind with
:func:`timer_handler`. A handler is a pure function of the conversation, the timer and a
:class:`TimerContext`, returning an Outcome like any transition.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from switchboard_common.domain.events import (
    ConversationAssigned,
    ConversationAssignedPayload,
    ConversationEscalated,
    ConversationEscalatedPayload,
    ConversationOffered,
    ConversationOfferedPayload,
    ConversationQueued,
    ConversationQueuedPayload,
    ConversationStatusChanged,
    ConversationStatusPayload,
    ConversationUnassigned,
    ConversationUnassignedPayload,
    Event,
    MessageCreated,
    MessageCreatedPayload,
)

DECISION_NAMESPACE = uuid.UUID("0c6a9a57-3d0f-4f55-8a8e-3f9b7f1a2d64")
EPSILON = 1e-9

STATUSES = ("bot", "open", "pending", "snoozed", "resolved", "spam")
# An agent's load counts every unresolved conversation they hold: waking a snoozed one never overflows.
LOADED_STATUSES = frozenset({"open", "pending", "snoozed"})
# What the router keeps in memory: a conversation that can still change hands or wake up.
ACTIVE_STATUSES = frozenset({"bot", "open", "pending", "snoozed"})

STATES = ("bot", "unrouted", "queued", "offered", "assigned", "pending", "snoozed", "resolved", "spam")


# --- the capacity rule ----------------------------------------------------------------------------------


def channel_weight(channel: str, weights: Mapping[str, Any]) -> float:
    """A conversation's weight in its agent's load: the account's weight for its channel, else 1."""
    return float(weights.get(channel, 1))


def lightest_weight(weights: Mapping[str, Any]) -> float:
    """The smallest weight any conversation of the account can have (channels without a weight weigh 1)."""
    return min([1.0, *(float(w) for w in weights.values())])


def fits(load: float, weight: float, capacity: float) -> bool:
    """The capacity rule: a conversation of ``weight`` fits an agent with ``load`` when the sum stays within
    ``capacity`` (the epsilon absorbs float sums of fractional weights)."""
    return load + weight <= capacity + EPSILON


# --- the routing view of a conversation ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Offer:
    agent_id: uuid.UUID
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Conversation:
    id: uuid.UUID
    account_id: uuid.UUID
    inbox_id: uuid.UUID
    contact_id: uuid.UUID
    channel: str
    status: str
    created_at: datetime
    assignee_id: uuid.UUID | None = None
    offer: Offer | None = None
    # Set when it first had to wait (the wait and its position count from here); cleared by an assignment.
    queued_at: datetime | None = None
    priority: int = 0
    team_id: uuid.UUID | None = None
    # {"required": [...], "preferred": [...]} from a bot handoff.
    requirements: Mapping[str, Any] = field(default_factory=dict)
    # Bumped by every transition that announces something (assignment, offer, queueing, status change): part
    # of the decision event ids, so a replayed decision is recognised and two decisions never share an id.
    version: int = 0
    snoozed_until: datetime | None = None
    last_message_at: datetime | None = None
    explanation: Mapping[str, Any] = field(default_factory=dict)


def state_of(c: Conversation) -> str:
    """The one state the conversation is in (see the module's diagram)."""
    if c.status != "open":
        return c.status
    if c.assignee_id is not None:
        return "assigned"
    if c.offer is not None:
        return "offered"
    return "queued" if c.queued_at is not None else "unrouted"


def consistency_errors(c: Conversation) -> list[str]:
    """What is contradictory about a conversation (empty when it is in exactly one well-formed state)."""
    errors = []
    if c.status not in STATUSES:
        errors.append(f"unknown status {c.status}")
    if c.offer is not None and (c.status != "open" or c.assignee_id is not None):
        errors.append("an offer on a conversation that is not open and unassigned")
    if (c.snoozed_until is not None) != (c.status == "snoozed"):
        errors.append("snoozed_until set outside snoozed (or missing in it)")
    return errors


def holder(c: Conversation) -> uuid.UUID | None:
    """The agent whose capacity this conversation uses: its assignee while unresolved, or the agent it is
    offered to."""
    if c.assignee_id is not None and c.status in LOADED_STATUSES:
        return c.assignee_id
    if c.offer is not None:
        return c.offer.agent_id
    return None


def is_waiting(c: Conversation) -> bool:
    """Open, unassigned and not offered: it needs an agent (queued, or about to be decided)."""
    return c.status == "open" and c.assignee_id is None and c.offer is None


@dataclass(frozen=True, slots=True)
class AgentRoom:
    """An agent as a transition sees them: their current load and capacity."""

    agent_id: uuid.UUID
    load: float
    capacity: float


# --- what a transition makes happen ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timer:
    """A due time for one conversation; ``version`` is the conversation's version when it was set (a timer
    outlived by a reassignment does nothing)."""

    kind: str
    due_at: datetime
    agent_id: uuid.UUID | None = None
    version: int = 0


@dataclass(frozen=True, slots=True)
class CancelTimers:
    kinds: tuple[str, ...]


TimerChange = Timer | CancelTimers


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A row of the conversation's routing history (why it moved)."""

    action: str
    agent_id: uuid.UUID | None
    details: Mapping[str, Any]
    at: datetime


class Refused(Exception):
    """A transition that is not allowed in the conversation's state (HTTP status, machine-readable code)."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


@dataclass(slots=True)
class Outcome:
    before: Conversation
    after: Conversation
    events: list[Event] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    timers: list[TimerChange] = field(default_factory=list)
    # The agent who just got it (their last-assignment time moves: round robin, idle tie-breaks).
    assigned_to: uuid.UUID | None = None
    # The conversation now needs a routing decision (assign, offer or queue).
    route: bool = False

    @property
    def changed(self) -> bool:
        return self.after != self.before or bool(self.events or self.history or self.timers)

    def load_changes(self, weight: float) -> list[tuple[uuid.UUID, float, int]]:
        """(agent, load delta, held-conversations delta) this outcome causes."""
        old, new = holder(self.before), holder(self.after)
        if old == new:
            return []
        changes = []
        if old is not None:
            changes.append((old, -weight, -1))
        if new is not None:
            changes.append((new, weight, 1))
        return changes

    def then(self, following: Outcome) -> Outcome:
        """This outcome followed by one computed from its ``after``."""
        return Outcome(
            before=self.before,
            after=following.after,
            events=[*self.events, *following.events],
            history=[*self.history, *following.history],
            timers=[*self.timers, *following.timers],
            assigned_to=following.assigned_to or self.assigned_to,
            route=following.route,
        )


def unchanged(c: Conversation) -> Outcome:
    return Outcome(before=c, after=c)


# The decision events (assigned, offered, queued) are built with ``model_construct``: every field is a value this
# module typed itself (ids, times, the index's explanation; a note was validated with its command), so
# validating them again cost a tenth of a routing decision. tests/common/test_conversation_lifecycle.py proves
# that what they serialize to parses back, field for field, as the schema demands.


def decision_event_id(c: Conversation, kind: str) -> uuid.UUID:
    """Deterministic: a replayed decision republishes the same event id, which consumers recognise."""
    return uuid.uuid5(DECISION_NAMESPACE, f"{c.id}:{kind}:{c.version}")


def status_event(
    c: Conversation, status: str, key: str, now: datetime, actor_id: uuid.UUID | None = None
) -> ConversationStatusChanged:
    return ConversationStatusChanged(
        event_id=uuid.uuid5(DECISION_NAMESPACE, f"{c.id}:status:{key}"),
        tenant_id=c.account_id,
        conversation_id=c.id,
        occurred_at=now,
        payload=ConversationStatusPayload(inbox_id=c.inbox_id, status=status, actor_id=actor_id),
    )


def _unassigned_event(
    c: Conversation,
    kind: str,
    agent_id: uuid.UUID | None,
    reason: str,
    now: datetime,
    *,
    actor_id: uuid.UUID | None = None,
    note: str | None = None,
    team_id: uuid.UUID | None = None,
) -> ConversationUnassigned:
    return ConversationUnassigned(
        event_id=decision_event_id(c, kind),
        tenant_id=c.account_id,
        conversation_id=c.id,
        occurred_at=now,
        payload=ConversationUnassignedPayload(
            agent_id=agent_id, inbox_id=c.inbox_id, reason=reason, team_id=team_id, actor_id=actor_id, note=note
        ),
    )


def _needs_room(c: Conversation, after: Conversation, agent: AgentRoom, weight: float) -> None:
    if holder(after) == agent.agent_id and holder(c) != agent.agent_id and not fits(agent.load, weight, agent.capacity):
        raise Refused(409, "agent_at_capacity", "the agent has no free capacity")


# --- routing transitions -----------------------------------------------------------------------------


def assign(
    c: Conversation,
    agent: AgentRoom,
    *,
    weight: float,
    now: datetime,
    strategy: str,
    explanation: Mapping[str, Any],
    reason: str,
    note: str | None = None,
    first_response_seconds: float = 0,
) -> Outcome:
    """Gives the conversation to the agent (a routing decision, a claim, an accepted offer, a transfer)."""
    if c.status == "resolved":
        raise Refused(409, "conversation_resolved", "reopen the conversation first")
    if c.assignee_id == agent.agent_id:
        raise Refused(409, "already_assigned", "the conversation is already assigned to this agent")
    after = replace(
        c,
        # An agent taking a conversation from the bot (or out of spam) takes it over: it is open.
        status="open" if c.status in ("bot", "spam") else c.status,
        assignee_id=agent.agent_id,
        offer=None,
        queued_at=None,
        version=c.version + 1,
        explanation={**explanation, "reason": reason, "decided_at": now.isoformat()},
    )
    _needs_room(c, after, agent, weight)
    timers: list[TimerChange] = [CancelTimers(("offer", "escalate", "business_open", "no_reply"))]
    if first_response_seconds > 0 and after.status == "open":
        timers.append(Timer("no_reply", now + timedelta(seconds=first_response_seconds), agent.agent_id, after.version))
    event = ConversationAssigned.model_construct(
        event_id=decision_event_id(after, "assigned"),
        tenant_id=c.account_id,
        conversation_id=c.id,
        occurred_at=now,
        payload=ConversationAssignedPayload.model_construct(
            agent_id=agent.agent_id,
            previous_agent_id=c.assignee_id,
            inbox_id=c.inbox_id,
            strategy=strategy,
            explanation=dict(after.explanation),
            reason=reason,
            note=note,
        ),
    )
    return Outcome(
        before=c,
        after=after,
        events=[event],
        history=[HistoryEntry("assigned", agent.agent_id, {"strategy": strategy, "reason": reason}, now)],
        timers=timers,
        assigned_to=agent.agent_id,
    )


def offer(
    c: Conversation,
    agent: AgentRoom,
    *,
    weight: float,
    now: datetime,
    seconds: float,
    strategy: str,
    explanation: Mapping[str, Any],
) -> Outcome:
    """Offers a waiting conversation to the agent, who must accept within ``seconds`` (it counts toward their
    capacity meanwhile)."""
    if not is_waiting(c):
        raise Refused(409, "not_waiting", "the conversation is not waiting for an agent")
    expires = now + timedelta(seconds=seconds)
    after = replace(
        c,
        offer=Offer(agent.agent_id, expires),
        version=c.version + 1,
        explanation={**explanation, "outcome": "offered", "decided_at": now.isoformat()},
    )
    _needs_room(c, after, agent, weight)
    event = ConversationOffered.model_construct(
        event_id=decision_event_id(after, "offered"),
        tenant_id=c.account_id,
        conversation_id=c.id,
        occurred_at=now,
        payload=ConversationOfferedPayload.model_construct(
            agent_id=agent.agent_id,
            inbox_id=c.inbox_id,
            expires_at=expires,
            strategy=strategy,
            explanation=dict(after.explanation),
        ),
    )
    return Outcome(
        before=c,
        after=after,
        events=[event],
        history=[HistoryEntry("offered", agent.agent_id, {"expires_at": expires.isoformat()}, now)],
        timers=[Timer("offer", expires, agent.agent_id, after.version)],
    )


def _offered_to(c: Conversation, agent_id: uuid.UUID) -> Offer:
    if c.offer is None or c.offer.agent_id != agent_id or c.assignee_id is not None:
        raise Refused(409, "no_offer", "there is no pending offer of this conversation to you")
    return c.offer


def accept(
    c: Conversation, agent: AgentRoom, *, weight: float, now: datetime, first_response_seconds: float = 0
) -> Outcome:
    _offered_to(c, agent.agent_id)
    return assign(
        c,
        agent,
        weight=weight,
        now=now,
        strategy="manual",
        explanation={"strategy": "manual", "outcome": "offer_accepted", "chosen": str(agent.agent_id)},
        reason="offer_accepted",
        first_response_seconds=first_response_seconds,
    )


def reject(c: Conversation, agent_id: uuid.UUID, *, now: datetime) -> Outcome:
    """The agent declines the offer: it goes to someone else (they are passed over for an hour)."""
    _offered_to(c, agent_id)
    after = replace(c, offer=None, version=c.version + 1)
    return Outcome(
        before=c,
        after=after,
        events=[_unassigned_event(after, "offer_rejected", agent_id, "offer_rejected", now, actor_id=agent_id)],
        history=[HistoryEntry("offer_rejected", agent_id, {}, now)],
        timers=[CancelTimers(("offer",))],
        route=True,
    )


def miss(c: Conversation, agent_id: uuid.UUID | None, *, now: datetime) -> Outcome:
    """The offer expired unanswered."""
    if c.offer is None or c.offer.agent_id != agent_id or c.status != "open" or c.assignee_id is not None:
        return unchanged(c)
    after = replace(c, offer=None, version=c.version + 1)
    return Outcome(
        before=c,
        after=after,
        events=[_unassigned_event(after, "offer_missed", agent_id, "offer_missed", now)],
        history=[HistoryEntry("offer_missed", agent_id, {}, now)],
        route=True,
    )


def unassign(
    c: Conversation,
    *,
    now: datetime,
    reason: str,
    actor_id: uuid.UUID | None = None,
    note: str | None = None,
    team_id: uuid.UUID | None = None,
) -> Outcome:
    """Takes the conversation back from its agent; an open one goes back to routing (as a fresh decision)."""
    previous = c.assignee_id
    after = replace(
        c,
        assignee_id=None,
        offer=None,
        queued_at=None,
        version=c.version + 1,
        team_id=team_id if team_id is not None else c.team_id,
    )
    return Outcome(
        before=c,
        after=after,
        events=[
            _unassigned_event(after, "unassigned", previous, reason, now, actor_id=actor_id, note=note, team_id=team_id)
        ],
        history=[HistoryEntry("unassigned", previous, {"reason": reason}, now)],
        timers=[CancelTimers(("offer", "no_reply"))],
        route=after.status == "open",
    )


def unassign_by(c: Conversation, *, now: datetime, actor_id: uuid.UUID, admin: bool) -> Outcome:
    """``POST .../unassign``: the assignee or an admin gives the conversation back to routing."""
    if c.assignee_id is None:
        raise Refused(409, "not_assigned", "the conversation has no assignee")
    if c.assignee_id != actor_id and not admin:
        raise Refused(403, "forbidden", "only the assignee or an admin can unassign")
    return unassign(c, now=now, reason="manual", actor_id=actor_id)


def transfer_to_team(
    c: Conversation, team_id: uuid.UUID, *, now: datetime, actor_id: uuid.UUID, note: str | None = None
) -> Outcome:
    """Back to routing, within the team."""
    if c.status == "resolved":
        raise Refused(409, "conversation_resolved", "reopen the conversation first")
    return unassign(c, now=now, reason="transfer_to_team", actor_id=actor_id, note=note, team_id=team_id)


def queue(
    c: Conversation,
    *,
    now: datetime,
    explanation: Mapping[str, Any],
    escalation_seconds: float = 0,
    opening: datetime | None = None,
    out_of_hours_message: str | None = None,
) -> Outcome:
    """Nobody can take it now: it waits (announced once). Outside business hours (``out_of_hours_message``
    given) the customer is told once, and a timer routes it at ``opening``."""
    if c.queued_at is not None or not is_waiting(c):
        return unchanged(c)
    after = replace(c, queued_at=now, version=c.version + 1, explanation={**explanation, "decided_at": now.isoformat()})
    reason = str(explanation.get("outcome", "no_capacity"))
    events: list[Event] = [
        ConversationQueued.model_construct(
            event_id=decision_event_id(after, "queued"),
            tenant_id=c.account_id,
            conversation_id=c.id,
            occurred_at=now,
            payload=ConversationQueuedPayload.model_construct(
                inbox_id=c.inbox_id, reason=reason, explanation=dict(after.explanation)
            ),
        )
    ]
    timers: list[TimerChange] = []
    if escalation_seconds > 0:
        timers.append(Timer("escalate", now + timedelta(seconds=escalation_seconds)))
    if out_of_hours_message is not None:
        if opening is not None:
            timers.append(Timer("business_open", opening))
        events.append(_out_of_hours_reply(after, out_of_hours_message, now))
    return Outcome(
        before=c,
        after=after,
        events=events,
        history=[HistoryEntry("queued", None, {"reason": reason}, now)],
        timers=timers,
    )


def _out_of_hours_reply(c: Conversation, text: str, now: datetime) -> MessageCreated:
    event_id = decision_event_id(c, "out_of_hours")
    return MessageCreated(
        event_id=event_id,
        tenant_id=c.account_id,
        conversation_id=c.id,
        occurred_at=now,
        payload=MessageCreatedPayload(
            message_id=uuid.uuid5(event_id, "message"),
            inbox_id=c.inbox_id,
            contact_id=c.contact_id,
            channel=c.channel,
            direction="outbound",
            sender_type="system",
            text=text,
            created_at=now,
        ),
    )


def escalate(c: Conversation, *, now: datetime, escalation_seconds: float) -> Outcome:
    """A waiting conversation's priority rises by one (and again after ``escalation_seconds``)."""
    if c.status != "open" or c.assignee_id is not None:
        return unchanged(c)
    after = replace(c, priority=c.priority + 1)
    timers: list[TimerChange] = []
    if escalation_seconds > 0:
        timers.append(Timer("escalate", now + timedelta(seconds=escalation_seconds)))
    return Outcome(
        before=c,
        after=after,
        events=[
            ConversationEscalated(
                event_id=uuid.uuid5(DECISION_NAMESPACE, f"{c.id}:escalated:{after.priority}"),
                tenant_id=c.account_id,
                conversation_id=c.id,
                occurred_at=now,
                payload=ConversationEscalatedPayload(inbox_id=c.inbox_id, priority=after.priority),
            )
        ],
        history=[HistoryEntry("escalated", None, {"priority": after.priority}, now)],
        timers=timers,
    )


def prioritise(c: Conversation, at_least: int, *, now: datetime) -> Outcome:
    """An SLA breach raises an unresolved conversation's priority to ``at_least`` (never lowers it, so a
    redelivered breach changes nothing twice); announced like an escalation."""
    if c.status in ("resolved", "spam") or c.priority >= at_least:
        return unchanged(c)
    after = replace(c, priority=at_least)
    return Outcome(
        before=c,
        after=after,
        events=[
            ConversationEscalated(
                event_id=uuid.uuid5(DECISION_NAMESPACE, f"{c.id}:escalated:{after.priority}"),
                tenant_id=c.account_id,
                conversation_id=c.id,
                occurred_at=now,
                payload=ConversationEscalatedPayload(inbox_id=c.inbox_id, priority=after.priority),
            )
        ],
        history=[HistoryEntry("escalated", None, {"priority": after.priority, "reason": "sla_breached"}, now)],
    )


def no_reply(c: Conversation, agent_id: uuid.UUID | None, version: int, *, now: datetime) -> Outcome:
    """The assignee did not answer in time: back to routing (they are passed over for an hour)."""
    if c.status != "open" or c.assignee_id is None or c.assignee_id != agent_id or c.version != version:
        return unchanged(c)
    passed_over = Outcome(before=c, after=c, history=[HistoryEntry("no_reply", agent_id, {}, now)])
    return passed_over.then(unassign(c, now=now, reason="no_reply"))


def give_back(c: Conversation, *, now: datetime) -> Outcome:
    """The assignee went offline: an open conversation returns to routing (pending and snoozed stay)."""
    if c.status != "open" or c.assignee_id is None:
        return unchanged(c)
    return unassign(c, now=now, reason="agent_offline")


def handoff(c: Conversation, params: Mapping[str, Any]) -> Outcome:
    """The bot hands over to humans: its parameters become the routing requirements."""
    if c.status not in ("bot", "open") or c.assignee_id is not None:
        return unchanged(c)
    preferred = [str(s) for s in params.get("preferred_skills", []) if isinstance(s, str)]
    if isinstance(params.get("language"), str):
        preferred.append(params["language"])
    required = [str(s) for s in params.get("skills", []) if isinstance(s, str)]
    requirements = {"required": required, "preferred": preferred}
    priority = params["priority"] if isinstance(params.get("priority"), int) else c.priority
    team_id = _uuid_or_none(params.get("team_id")) or c.team_id
    after = replace(c, status="open", requirements=requirements, priority=priority, team_id=team_id)
    return Outcome(before=c, after=after, route=is_waiting(after))


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- status transitions --------------------------------------------------------------------------------


def wake(c: Conversation, *, now: datetime, key: str) -> Outcome:
    """A snoozed or pending conversation is open again (same agent): a customer wrote, or the snooze ended."""
    if c.status not in ("snoozed", "pending"):
        return unchanged(c)
    after = replace(c, status="open", snoozed_until=None, version=c.version + 1)
    return Outcome(
        before=c,
        after=after,
        events=[status_event(after, "open", key, now)],
        timers=[CancelTimers(("snooze",))],
        route=is_waiting(after),
    )


def set_pending(c: Conversation, *, now: datetime, actor_id: uuid.UUID | None = None) -> Outcome:
    """Waiting on the customer: the agent keeps it; the customer's next message opens it again."""
    if c.status not in ("open", "snoozed"):
        raise Refused(409, "invalid_status", f"a {c.status} conversation cannot become pending")
    after = replace(c, status="pending", snoozed_until=None, offer=None, version=c.version + 1)
    return Outcome(
        before=c,
        after=after,
        events=[status_event(after, "pending", f"pending:{after.version}", now, actor_id)],
        timers=[CancelTimers(("snooze", "no_reply", "offer"))],
    )


def snooze(c: Conversation, until: datetime, *, now: datetime, actor_id: uuid.UUID | None = None) -> Outcome:
    if c.status not in ("open", "pending", "snoozed"):
        raise Refused(409, "invalid_status", f"a {c.status} conversation cannot be snoozed")
    after = replace(c, status="snoozed", snoozed_until=until, offer=None, version=c.version + 1)
    return Outcome(
        before=c,
        after=after,
        events=[status_event(after, "snoozed", f"snoozed:{after.version}", now, actor_id)],
        timers=[CancelTimers(("no_reply", "offer")), Timer("snooze", until)],
    )


def resolve(c: Conversation, *, now: datetime, actor_id: uuid.UUID | None = None) -> Outcome:
    """Resolved: the agent's capacity is free again; the contact's next message opens a new conversation.
    Without an actor it is the inactivity rule (``auto_resolved``)."""
    if c.status == "resolved":
        return unchanged(c)
    after = replace(c, status="resolved", snoozed_until=None, offer=None, version=c.version + 1)
    action, agent = ("resolved", actor_id) if actor_id is not None else ("auto_resolved", c.assignee_id)
    return Outcome(
        before=c,
        after=after,
        events=[status_event(after, "resolved", f"resolved:{after.version}", now, actor_id)],
        history=[HistoryEntry(action, agent, {}, now)],
        timers=[CancelTimers(all_timer_kinds())],
    )


def reopen(
    c: Conversation,
    *,
    now: datetime,
    actor_id: uuid.UUID,
    assignee: AgentRoom | None,
    weight: float,
    newer_open: uuid.UUID | None = None,
) -> Outcome:
    """Open again. A resolved one keeps its agent if they have room (``assignee``: their load now), else it
    goes back to routing; it cannot reopen while the contact has a newer unresolved conversation there."""
    if c.status == "open":
        return unchanged(c)
    if c.status == "resolved" and newer_open is not None:
        raise Refused(
            409,
            "newer_conversation_open",
            "the contact has a newer open conversation",
            details={"conversation_id": str(newer_open)},
        )
    after = replace(c, status="open", snoozed_until=None, queued_at=None, version=c.version + 1)
    if (
        c.assignee_id is not None
        and holder(c) != c.assignee_id  # it did not count toward them (resolved, bot, spam): it must fit now
        and (
            assignee is None or assignee.agent_id != c.assignee_id or not fits(assignee.load, weight, assignee.capacity)
        )
    ):
        after = replace(after, assignee_id=None)
    return Outcome(
        before=c,
        after=after,
        events=[status_event(after, "open", f"reopened:{after.version}", now, actor_id)],
        history=[HistoryEntry("reopened", actor_id, {}, now)],
        timers=[CancelTimers(("snooze",))],
        route=is_waiting(after),
    )


def mark_spam(c: Conversation, spam: bool, *, now: datetime, actor_id: uuid.UUID | None = None) -> Outcome:
    """Spam leaves the agent's load at once; "not spam" goes back to routing as a fresh conversation."""
    if (c.status == "spam") == spam:
        return unchanged(c)
    if spam:
        after = replace(c, status="spam", snoozed_until=None, offer=None, version=c.version + 1)
        timers: list[TimerChange] = [CancelTimers(all_timer_kinds())]
    else:
        after = replace(c, status="open", assignee_id=None, queued_at=None, version=c.version + 1)
        timers = []
    return Outcome(
        before=c,
        after=after,
        events=[status_event(after, after.status, f"spam:{after.version}", now, actor_id)],
        timers=timers,
        route=is_waiting(after),
    )


def message(
    c: Conversation,
    *,
    direction: str,
    sender_type: str,
    sender_id: uuid.UUID | None,
    message_id: uuid.UUID,
    sent_at: datetime,
    now: datetime,
    auto_resolve_seconds: float = 0,
) -> Outcome:
    """A message joined the conversation: a customer's wakes a snoozed or pending one; the assignee's reply
    stops the no-reply timer; any message restarts the inactivity timer."""
    outcome = Outcome(before=c, after=replace(c, last_message_at=max(c.last_message_at or sent_at, sent_at)))
    if direction == "inbound":
        outcome = outcome.then(wake(outcome.after, now=now, key=f"message:{message_id}"))
        # Also covers a conversation whose "created" event never came (a crash in ingest).
        outcome.route = is_waiting(outcome.after) and outcome.after.queued_at is None
    elif sender_type == "agent" and sender_id is not None and sender_id == c.assignee_id:
        outcome.timers.append(CancelTimers(("no_reply",)))
    if auto_resolve_seconds > 0 and outcome.after.status != "resolved":
        outcome.timers.append(Timer("auto_resolve", sent_at + timedelta(seconds=auto_resolve_seconds)))
    return outcome


# --- timers -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimerContext:
    now: datetime
    # The inbox's routing settings (switchboard_common.domain.conversations.routing.inbox_routing).
    inbox: Mapping[str, Any]


TimerHandler = Callable[[Conversation, Timer, TimerContext], Outcome]
TIMER_HANDLERS: dict[str, TimerHandler] = {}


def timer_handler(kind: str) -> Callable[[TimerHandler], TimerHandler]:
    """Registers what a due timer of ``kind`` does (one handler per kind)."""

    def register(handler: TimerHandler) -> TimerHandler:
        TIMER_HANDLERS[kind] = handler
        return handler

    return register


def fire(c: Conversation, timer: Timer, context: TimerContext) -> Outcome:
    """A due timer's outcome (unknown kinds do nothing, so a newer writer's timers never break an older one)."""
    handler = TIMER_HANDLERS.get(timer.kind)
    return handler(c, timer, context) if handler is not None else unchanged(c)


@timer_handler("offer")
def _offer_expired(c: Conversation, timer: Timer, context: TimerContext) -> Outcome:
    return miss(c, timer.agent_id, now=context.now)


@timer_handler("snooze")
def _snooze_ended(c: Conversation, timer: Timer, context: TimerContext) -> Outcome:
    if c.status != "snoozed":
        return unchanged(c)
    return wake(c, now=context.now, key=f"wake:{c.version + 1}")


@timer_handler("no_reply")
def _no_reply(c: Conversation, timer: Timer, context: TimerContext) -> Outcome:
    return no_reply(c, timer.agent_id, timer.version, now=context.now)


@timer_handler("auto_resolve")
def _inactive(c: Conversation, timer: Timer, context: TimerContext) -> Outcome:
    seconds = float(context.inbox.get("auto_resolve_seconds") or 0)
    if c.status == "resolved" or seconds <= 0:
        return unchanged(c)
    last = c.last_message_at or c.created_at
    due = last + timedelta(seconds=seconds)
    if due <= context.now:
        return resolve(c, now=context.now)
    outcome = unchanged(c)
    outcome.timers.append(Timer("auto_resolve", due))
    return outcome


@timer_handler("escalate")
def _escalate(c: Conversation, timer: Timer, context: TimerContext) -> Outcome:
    return escalate(c, now=context.now, escalation_seconds=float(context.inbox.get("escalation_seconds") or 0))


@timer_handler("business_open")
def _business_open(c: Conversation, timer: Timer, context: TimerContext) -> Outcome:
    if not is_waiting(c):
        return unchanged(c)
    # A fresh routing decision, announced again.
    return Outcome(before=c, after=replace(c, queued_at=None), route=True)


def all_timer_kinds() -> tuple[str, ...]:
    """Every registered kind (resolving a conversation cancels them all)."""
    return tuple(TIMER_HANDLERS)


TIMER_KINDS: tuple[str, ...] = all_timer_kinds()


def apply_timer_changes(timers: dict[str, Timer], changes: Iterable[TimerChange]) -> dict[str, Timer]:
    """One conversation's timers (by kind) after these changes, in order."""
    result = dict(timers)
    for change in changes:
        if isinstance(change, CancelTimers):
            for kind in change.kinds:
                result.pop(kind, None)
        else:
            result[change.kind] = change
    return result
