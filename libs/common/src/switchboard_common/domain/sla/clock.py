"""SLA clocks: pure functions of a conversation's history, a policy and the inbox's business hours.

No I/O and no clock of its own: every step takes the moment it happens at, so the router's SLA worker, the
API and the tests (with a driven clock) compute the same due times.

A conversation has up to three clocks, one per target of its policy:

- ``first_response``: from the moment it is open for humans until an agent's first reply;
- ``next_response``: after that, from each customer message that waits for an answer until the agent's next
  reply (a new *cycle* each time);
- ``resolution``: from open until resolved (a reopened conversation resumes the count).

A clock counts seconds only while it runs: with ``business_hours_only`` only inside the inbox's business
hours, and never while the conversation is in one of the policy's pause statuses (``snoozed``, ``pending``
by default). Its due time is the moment its counted seconds would reach the target; a clock still running at
its due time is *breached* (once per clock and cycle).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TARGETS = ("first_response", "next_response", "resolution")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_PAUSE_STATUSES = ("pending", "snoozed")
# How far ahead a due time is looked for; a clock that cannot reach its target within this (an inbox open
# one hour a year) has no due time and never breaches.
HORIZON_DAYS = 400


# --- counted time -----------------------------------------------------------------------------------------


def _zone(hours: Mapping[str, Any]) -> ZoneInfo:
    try:
        return ZoneInfo(str(hours.get("timezone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _day_intervals(hours: Mapping[str, Any], day: str) -> list[tuple[time, time]]:
    return sorted(
        (time.fromisoformat(str(start)), time.fromisoformat(str(end)))
        for start, end in (hours.get("weekly") or {}).get(day, [])
    )


def open_intervals(hours: Mapping[str, Any], start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The inbox's open intervals (UTC) from ``start`` on, in order, the first clipped to ``start``."""
    zone = _zone(hours)
    start = start.astimezone(UTC)
    first_day = start.astimezone(zone).date() - timedelta(days=1)  # an interval may straddle midnight UTC
    for offset in range(HORIZON_DAYS + 2):
        day = first_day + timedelta(days=offset)
        for opens, closes in _day_intervals(hours, DAYS[day.weekday()]):
            begin = datetime.combine(day, opens, tzinfo=zone).astimezone(UTC)
            end = datetime.combine(day, closes, tzinfo=zone).astimezone(UTC)
            if end <= start:
                continue
            yield max(begin, start), end


def counted_seconds(start: datetime, end: datetime, hours: Mapping[str, Any] | None) -> float:
    """Seconds between two moments that count: all of them, or only those inside business hours."""
    if end <= start:
        return 0.0
    if not hours:
        return (end - start).total_seconds()
    total = 0.0
    for begin, finish in open_intervals(hours, start):
        if begin >= end:
            break
        total += (min(finish, end) - begin).total_seconds()
    return total


def add_counted(start: datetime, seconds: float, hours: Mapping[str, Any] | None) -> datetime | None:
    """The moment ``seconds`` counted seconds have passed since ``start`` (None: not within the horizon)."""
    if not hours:
        return start + timedelta(seconds=max(seconds, 0.0))
    left = max(seconds, 0.0)
    for begin, finish in open_intervals(hours, start):
        length = (finish - begin).total_seconds()
        if left <= length:
            return begin + timedelta(seconds=left)
        left -= length
    return None


# --- policy ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    first_response_seconds: int | None = None
    next_response_seconds: int | None = None
    resolution_seconds: int | None = None
    business_hours_only: bool = False
    pause_statuses: tuple[str, ...] = DEFAULT_PAUSE_STATUSES
    # How much a breach raises the conversation's priority in the queue (0: not at all).
    raise_priority: int = 0

    def target(self, name: str) -> int | None:
        return {
            "first_response": self.first_response_seconds,
            "next_response": self.next_response_seconds,
            "resolution": self.resolution_seconds,
        }[name]


# --- clocks ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Clock:
    started_at: datetime | None = None
    # Counted seconds up to ``running_since`` (or up to the pause).
    consumed: float = 0.0
    running_since: datetime | None = None
    met_at: datetime | None = None
    breached_at: datetime | None = None
    cycle: int = 0

    @property
    def running(self) -> bool:
        return self.running_since is not None

    @property
    def awaiting(self) -> bool:
        """Started and not met yet (running, or paused)."""
        return self.started_at is not None and self.met_at is None

    def to_json(self) -> dict[str, Any]:
        return {
            "started_at": _iso(self.started_at),
            "consumed": self.consumed,
            "running_since": _iso(self.running_since),
            "met_at": _iso(self.met_at),
            "breached_at": _iso(self.breached_at),
            "cycle": self.cycle,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Clock:
        data = data or {}
        return cls(
            started_at=_parse(data.get("started_at")),
            consumed=float(data.get("consumed") or 0.0),
            running_since=_parse(data.get("running_since")),
            met_at=_parse(data.get("met_at")),
            breached_at=_parse(data.get("breached_at")),
            cycle=int(data.get("cycle") or 0),
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _start(clock: Clock, at: datetime, *, paused: bool) -> Clock:
    return replace(clock, started_at=at, consumed=0.0, running_since=None if paused else at, met_at=None)


def _pause(clock: Clock, at: datetime, hours: Mapping[str, Any] | None) -> Clock:
    if clock.running_since is None:
        return clock
    return replace(clock, consumed=clock.consumed + counted_seconds(clock.running_since, at, hours), running_since=None)


def _resume(clock: Clock, at: datetime) -> Clock:
    if not clock.awaiting or clock.running:
        return clock
    return replace(clock, running_since=at)


def _meet(clock: Clock, at: datetime, hours: Mapping[str, Any] | None) -> Clock:
    if not clock.awaiting:
        return clock
    return replace(_pause(clock, at, hours), met_at=at)


def due_at(clock: Clock, target: int | None, hours: Mapping[str, Any] | None) -> datetime | None:
    """When a running clock reaches its target (None: no target, met, or paused)."""
    if target is None or clock.running_since is None or clock.met_at is not None:
        return None
    return add_counted(clock.running_since, target - clock.consumed, hours)


# --- a conversation's SLA ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Breach:
    target: str
    due_at: datetime
    cycle: int

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "due_at": self.due_at.isoformat(), "cycle": self.cycle}


@dataclass(frozen=True, slots=True)
class SlaState:
    """Everything the clocks of one conversation depend on (stored as JSON beside the conversation)."""

    clocks: Mapping[str, Clock] = field(default_factory=lambda: {name: Clock() for name in TARGETS})
    status: str = "open"
    opened: bool = False

    def clock(self, name: str) -> Clock:
        return self.clocks.get(name) or Clock()

    def with_clock(self, name: str, clock: Clock) -> SlaState:
        return replace(self, clocks={**self.clocks, name: clock})

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "opened": self.opened,
            "clocks": {name: self.clock(name).to_json() for name in TARGETS},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> SlaState:
        data = data or {}
        clocks = data.get("clocks") or {}
        return cls(
            clocks={name: Clock.from_json(clocks.get(name)) for name in TARGETS},
            status=str(data.get("status") or "open"),
            opened=bool(data.get("opened")),
        )


def _paused(policy: Policy | None, status: str) -> bool:
    pause = policy.pause_statuses if policy is not None else DEFAULT_PAUSE_STATUSES
    return status in pause


def opened(state: SlaState, at: datetime) -> SlaState:
    """The conversation is open for humans (created open, or handed over by the bot): the first response and
    resolution clocks start."""
    if state.opened:
        return state
    started = replace(state, opened=True, status="open")
    for name in ("first_response", "resolution"):
        started = started.with_clock(name, _start(started.clock(name), at, paused=False))
    return started


def agent_replied(state: SlaState, at: datetime, hours: Mapping[str, Any] | None) -> SlaState:
    """An agent answered the customer: the first response (once) and the current next-response cycle are met."""
    result = state
    for name in ("first_response", "next_response"):
        clock = result.clock(name)
        if clock.awaiting:
            result = result.with_clock(name, _meet(clock, at, hours))
    return result


def customer_wrote(state: SlaState, at: datetime, policy: Policy | None) -> SlaState:
    """A customer message after the first response starts a next-response cycle (unless one is waiting)."""
    if not state.opened or state.clock("first_response").met_at is None or state.status == "resolved":
        return state
    current = state.clock("next_response")
    if current.awaiting:
        return state
    cycle = Clock(cycle=current.cycle + 1)
    return state.with_clock("next_response", _start(cycle, at, paused=_paused(policy, state.status)))


def status_changed(
    state: SlaState, status: str, at: datetime, policy: Policy | None, hours: Mapping[str, Any] | None
) -> SlaState:
    """Pause statuses stop every clock; open resumes them; resolved meets the resolution and stops the rest;
    a reopened conversation resumes its resolution clock where it stopped."""
    if status == state.status:
        return state
    result = replace(state, status=status)
    if not state.opened:
        return result
    for name in TARGETS:
        clock = result.clock(name)
        if status == "resolved":
            clock = _meet(clock, at, hours) if name == "resolution" else _pause(clock, at, hours)
        elif _paused(policy, status) or status in ("bot", "spam"):
            clock = _pause(clock, at, hours)
        elif status == "open":
            if state.status == "resolved" and name == "resolution" and clock.started_at is not None:
                clock = replace(clock, met_at=None)
            clock = _resume(clock, at)
        result = result.with_clock(name, clock)
    return result


def due_times(state: SlaState, policy: Policy | None, hours: Mapping[str, Any] | None) -> dict[str, datetime | None]:
    if policy is None:
        return {name: None for name in TARGETS}
    return {name: due_at(state.clock(name), policy.target(name), hours) for name in TARGETS}


def evaluate(
    state: SlaState, now: datetime, policy: Policy | None, hours: Mapping[str, Any] | None
) -> tuple[SlaState, list[Breach], datetime | None]:
    """Clocks past their due time at ``now`` become breached (once per clock and cycle). Returns the state
    after, the new breaches, and when to look again (the earliest due time still ahead, or None)."""
    if policy is None:
        return state, [], None
    breaches: list[Breach] = []
    next_check: datetime | None = None
    result = state
    for name, due in due_times(state, policy, hours).items():
        clock = result.clock(name)
        if due is None or clock.breached_at is not None:
            continue
        if due <= now:
            result = result.with_clock(name, replace(clock, breached_at=due))
            breaches.append(Breach(name, due, clock.cycle))
        elif next_check is None or due < next_check:
            next_check = due
    return result, breaches, next_check


def summary(
    state: SlaState, policy: Policy | None, hours: Mapping[str, Any] | None, breached: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The conversation object's ``sla``: due times of the clocks still waiting (a breached one keeps its due
    time, in the past) and every breach so far."""
    dues = due_times(state, policy, hours)
    return {
        "policy_id": policy.id if policy is not None else None,
        "first_response_due_at": dues["first_response"],
        "next_response_due_at": dues["next_response"],
        "resolution_due_at": dues["resolution"],
        "paused": state.opened
        and any(state.clock(name).awaiting and not state.clock(name).running for name in TARGETS)
        and state.status != "resolved",
        "breached": list(breached),
    }
