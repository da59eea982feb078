"""From events to rollup deltas: a pure reducer (no I/O, no clock).

:func:`apply` takes what is remembered of a conversation (:class:`Facts`, or None before its first event) and
one event, and returns the facts after it and the :class:`Delta` values it adds: counters and durations in the
hour the event happened, under the conversation's dimensions at that moment (agent, team, inbox, channel and
each of its labels). Attribution (docs/reports.md):

- opened: the creation hour; no agent yet (by agent it counts under "unassigned");
- queue wait: from opening (or being given back) to an agent taking it, under that agent;
- first response: from opening to the first agent reply, under the replying agent;
- resolved, resolution time (from opening) and SLA attainment (had a policy, met every target): at each
  resolution, under the agent holding it;
- messages in (customers) and out (agents and bots, notes excluded): under the agent holding it, or the sender;
- CSAT: a survey asked counts as requested; an answer adds its rating under the resolving agent, and a changed
  answer moves the rating (the old one is taken back where it was counted).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

from switchboard_common.domain.events import (
    ConversationAssigned,
    ConversationCreated,
    ConversationCsatAnswered,
    ConversationCsatRequested,
    ConversationLabelsChanged,
    ConversationSlaBreached,
    ConversationSlaUpdated,
    ConversationStatusChanged,
    ConversationUnassigned,
    Event,
    MessageCreated,
)

METRICS = {"first_response": 1, "resolution": 2, "queue_wait": 3}
REPORTED_TYPES = frozenset(
    {
        "conversation.created",
        "conversation.assigned",
        "conversation.unassigned",
        "conversation.status_changed",
        "message.created",
        "conversation.sla_updated",
        "conversation.sla_breached",
        "conversation.labels_changed",
        "conversation.csat_requested",
        "conversation.csat_answered",
    }
)


@dataclass(frozen=True, slots=True)
class Dims:
    agent_id: uuid.UUID | None
    team_id: uuid.UUID | None
    inbox_id: uuid.UUID | None
    channel: str


@dataclass(frozen=True, slots=True)
class Delta:
    hour: datetime
    dims: Dims
    labels: tuple[str, ...]
    counter: str | None = None  # a counter of report_rollups, or
    metric: int | None = None  # a histogram (METRICS) with a duration in seconds
    seconds: float = 0.0
    amount: int = 1


@dataclass(frozen=True, slots=True)
class Facts:
    inbox_id: uuid.UUID | None = None
    channel: str = "web"
    team_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    labels: tuple[str, ...] = ()
    opened_at: datetime | None = None
    waiting_since: datetime | None = None
    first_response_at: datetime | None = None
    sla_policy: bool = False
    sla_breached: bool = False
    # The rating counted now, and where (hour and dimensions) it was counted: a changed answer moves it.
    csat_rating: int | None = None
    csat_hour: datetime | None = None
    csat_dims: Dims | None = None
    csat_labels: tuple[str, ...] = ()
    status: str = "open"

    def dims(self, agent_id: uuid.UUID | None = None, *, current_agent: bool = True) -> Dims:
        agent = agent_id if agent_id is not None else (self.agent_id if current_agent else None)
        return Dims(agent, self.team_id, self.inbox_id, self.channel)

    def to_json(self) -> dict[str, Any]:
        # Field by field: asdict deep-copies every value, a tenth of the gateway's CPU while a queue of 2,000
        # drained (its rollup consumer writes every conversation's facts).
        data: dict[str, Any] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, uuid.UUID | datetime):
                value = str(value) if isinstance(value, uuid.UUID) else value.isoformat()
            data[field.name] = value
        data["labels"] = list(self.labels)
        data["csat_labels"] = list(self.csat_labels)
        data["csat_dims"] = _dims_json(self.csat_dims)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Facts:
        return cls(
            inbox_id=_uuid(data.get("inbox_id")),
            channel=str(data.get("channel") or "web"),
            team_id=_uuid(data.get("team_id")),
            agent_id=_uuid(data.get("agent_id")),
            labels=tuple(data.get("labels") or ()),
            opened_at=_time(data.get("opened_at")),
            waiting_since=_time(data.get("waiting_since")),
            first_response_at=_time(data.get("first_response_at")),
            sla_policy=bool(data.get("sla_policy")),
            sla_breached=bool(data.get("sla_breached")),
            csat_rating=data.get("csat_rating"),
            csat_hour=_time(data.get("csat_hour")),
            csat_dims=_dims_from(data.get("csat_dims")),
            csat_labels=tuple(data.get("csat_labels") or ()),
            status=str(data.get("status") or "open"),
        )


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _dims_json(dims: Dims | None) -> dict[str, Any] | None:
    if dims is None:
        return None
    return {
        "agent_id": str(dims.agent_id) if dims.agent_id else None,
        "team_id": str(dims.team_id) if dims.team_id else None,
        "inbox_id": str(dims.inbox_id) if dims.inbox_id else None,
        "channel": dims.channel,
    }


def _dims_from(data: Any) -> Dims | None:
    if not isinstance(data, dict):
        return None
    return Dims(_uuid(data.get("agent_id")), _uuid(data.get("team_id")), _uuid(data.get("inbox_id")), data["channel"])


def hour_of(moment: datetime) -> datetime:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _seconds(start: datetime | None, end: datetime) -> float | None:
    if start is None:
        return None
    return max((end - start).total_seconds(), 0.0)


def apply(
    facts: Facts | None, event: Event, *, inbox_team: uuid.UUID | None = None
) -> tuple[Facts | None, list[Delta]]:
    """The facts after ``event`` and the deltas it adds (``inbox_team``: the team of a new conversation's
    inbox, which routes it)."""
    at = _aware(event.occurred_at)
    if isinstance(event, ConversationCreated):
        if facts is not None and facts.opened_at is not None:
            return facts, []
        p = event.payload
        opened = p.status != "bot"
        created = Facts(
            inbox_id=p.inbox_id,
            channel=p.channel,
            team_id=inbox_team,
            opened_at=at,
            waiting_since=at if opened else None,
            status=p.status,
        )
        return created, [Delta(hour_of(at), created.dims(current_agent=False), (), counter="conversations_opened")]
    if isinstance(event, MessageCreated):
        return _message(facts, event)
    if facts is None:
        return None, []  # a conversation the reports never saw opening (older than the rollups, or erased)
    h = hour_of(at)
    if isinstance(event, ConversationAssigned):
        deltas = []
        wait = _seconds(facts.waiting_since, at)
        after = replace(facts, agent_id=event.payload.agent_id, waiting_since=None, status="open")
        if wait is not None:
            deltas.append(Delta(h, after.dims(), after.labels, metric=METRICS["queue_wait"], seconds=wait))
        return after, deltas
    if isinstance(event, ConversationUnassigned):
        team = event.payload.team_id or facts.team_id
        waiting = facts.waiting_since or (at if facts.status == "open" else None)
        return replace(facts, agent_id=None, team_id=team, waiting_since=waiting), []
    if isinstance(event, ConversationStatusChanged):
        return _status(facts, event.payload.status, at, event.payload.handoff)
    if isinstance(event, ConversationSlaUpdated):
        return (replace(facts, sla_policy=True) if event.payload.policy_id is not None else facts), []
    if isinstance(event, ConversationSlaBreached):
        return replace(facts, sla_policy=True, sla_breached=True), []
    if isinstance(event, ConversationLabelsChanged):
        return replace(facts, labels=tuple(sorted(set(event.payload.labels)))), []
    if isinstance(event, ConversationCsatRequested):
        return facts, [Delta(h, facts.dims(event.payload.agent_id), facts.labels, counter="csat_requested")]
    if isinstance(event, ConversationCsatAnswered):
        return _csat(facts, event)
    return facts, []


def _message(facts: Facts | None, event: MessageCreated) -> tuple[Facts | None, list[Delta]]:
    p = event.payload
    at = _aware(p.created_at)
    h = hour_of(at)
    base = facts or Facts(inbox_id=p.inbox_id, channel=p.channel)
    if getattr(p, "private", False):
        return facts, []
    if p.direction == "inbound":
        return facts, [Delta(h, base.dims(), base.labels, counter="messages_in")]
    if p.sender_type not in ("agent", "bot"):
        return facts, []
    sender = p.sender_id if p.sender_type == "agent" else None
    dims = base.dims(sender, current_agent=p.sender_type == "agent")
    deltas = [Delta(h, dims, base.labels, counter="messages_out")]
    if facts is not None and p.sender_type == "agent" and facts.first_response_at is None:
        first = _seconds(facts.opened_at, at)
        facts = replace(facts, first_response_at=at)
        if first is not None:
            deltas.append(Delta(h, dims, base.labels, metric=METRICS["first_response"], seconds=first))
    return facts, deltas


def _status(facts: Facts, status: str, at: datetime, handoff: dict[str, Any] | None) -> tuple[Facts, list[Delta]]:
    h = hour_of(at)
    if status == "resolved":
        if facts.status == "resolved":
            return facts, []
        deltas = [Delta(h, facts.dims(), facts.labels, counter="conversations_resolved")]
        took = _seconds(facts.opened_at, at)
        if took is not None:
            deltas.append(Delta(h, facts.dims(), facts.labels, metric=METRICS["resolution"], seconds=took))
        if facts.sla_policy:
            deltas.append(Delta(h, facts.dims(), facts.labels, counter="sla_conversations"))
            if not facts.sla_breached:
                deltas.append(Delta(h, facts.dims(), facts.labels, counter="sla_met"))
        return replace(facts, status="resolved", waiting_since=None), deltas
    after = replace(facts, status=status)
    if status == "open":
        team = _uuid((handoff or {}).get("team_id")) if (handoff or {}).get("team_id") else None
        after = replace(after, team_id=team or facts.team_id)
        if facts.status == "bot" and facts.agent_id is None:
            after = replace(after, waiting_since=at, opened_at=facts.opened_at)
    return after, []


def _csat(facts: Facts, event: ConversationCsatAnswered) -> tuple[Facts, list[Delta]]:
    p = event.payload
    at = _aware(p.answered_at)
    deltas: list[Delta] = []
    if facts.csat_rating is not None and facts.csat_hour is not None and facts.csat_dims is not None:
        if facts.csat_rating == p.rating:
            return facts, []
        deltas += [
            Delta(facts.csat_hour, facts.csat_dims, facts.csat_labels, counter="csat_responses", amount=-1),
            Delta(facts.csat_hour, facts.csat_dims, facts.csat_labels, counter="csat_sum", amount=-facts.csat_rating),
        ]
    dims = facts.dims(p.agent_id)
    h = hour_of(at)
    deltas += [
        Delta(h, dims, facts.labels, counter="csat_responses"),
        Delta(h, dims, facts.labels, counter="csat_sum", amount=p.rating),
    ]
    return replace(facts, csat_rating=p.rating, csat_hour=h, csat_dims=dims, csat_labels=facts.labels), deltas
