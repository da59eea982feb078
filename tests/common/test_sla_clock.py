"""SLA clocks with a driven clock: business hours, pauses, response cycles, breaches once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from switchboard_common.domain.sla import clock
from switchboard_common.domain.sla.models import SlaPolicy
from switchboard_common.domain.sla.policies import build

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
WEEKDAYS = {
    "timezone": "Europe/Athens",
    "weekly": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
}


def policy(**fields: object) -> clock.Policy:
    return clock.Policy(id="00000000-0000-0000-0000-000000000001", **fields)  # type: ignore[arg-type]


def test_counted_seconds_only_inside_business_hours() -> None:
    # Athens is UTC+2 in March: open 07:00-15:00 UTC.
    assert clock.counted_seconds(T0, T0 + timedelta(hours=1), WEEKDAYS) == 3600
    friday_evening = datetime(2026, 3, 6, 14, 0, tzinfo=UTC)
    monday_morning = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    assert clock.counted_seconds(friday_evening, monday_morning, WEEKDAYS) == 2 * 3600
    assert (
        clock.counted_seconds(friday_evening, monday_morning, None) == (monday_morning - friday_evening).total_seconds()
    )


def test_due_time_skips_closed_hours_and_weekends() -> None:
    friday = datetime(2026, 3, 6, 14, 30, tzinfo=UTC)  # 30 minutes before closing
    assert clock.add_counted(friday, 3600, WEEKDAYS) == datetime(2026, 3, 9, 7, 30, tzinfo=UTC)
    assert clock.add_counted(friday, 3600, None) == friday + timedelta(hours=1)
    night = datetime(2026, 3, 3, 20, 0, tzinfo=UTC)
    assert clock.add_counted(night, 60, WEEKDAYS) == datetime(2026, 3, 4, 7, 1, tzinfo=UTC)


def test_daylight_saving_change_is_counted_in_real_seconds() -> None:
    # Europe/Athens moves to summer time on 2026-03-29: opening is 06:00 UTC from Monday the 30th.
    friday = datetime(2026, 3, 27, 14, 0, tzinfo=UTC)
    assert clock.add_counted(friday, 2 * 3600, WEEKDAYS) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_never_open_inbox_has_no_due_time() -> None:
    assert clock.add_counted(T0, 60, {"timezone": "UTC", "weekly": {}}) is None


def test_first_response_breaches_once_at_its_due_time() -> None:
    p = policy(first_response_seconds=2)
    state = clock.opened(clock.SlaState(), T0)
    state, breaches, check_at = clock.evaluate(state, T0 + timedelta(seconds=1), p, None)
    assert breaches == [] and check_at == T0 + timedelta(seconds=2)
    state, breaches, check_at = clock.evaluate(state, T0 + timedelta(seconds=2), p, None)
    assert [(b.target, b.due_at) for b in breaches] == [("first_response", T0 + timedelta(seconds=2))]
    assert check_at is None
    state, breaches, _ = clock.evaluate(state, T0 + timedelta(seconds=30), p, None)
    assert breaches == []  # once


def test_reply_in_time_meets_it_and_clears_the_due_time() -> None:
    p = policy(first_response_seconds=60, resolution_seconds=600)
    state = clock.agent_replied(clock.opened(clock.SlaState(), T0), T0 + timedelta(seconds=59), None)
    assert clock.due_times(state, p, None)["first_response"] is None
    state, breaches, check_at = clock.evaluate(state, T0 + timedelta(seconds=61), p, None)
    assert breaches == [] and check_at == T0 + timedelta(seconds=600)
    summary = clock.summary(state, p, None, [])
    assert summary["first_response_due_at"] is None and summary["resolution_due_at"] == T0 + timedelta(seconds=600)


def test_next_response_cycles_each_breach_on_their_own() -> None:
    p = policy(first_response_seconds=60, next_response_seconds=30)
    state = clock.agent_replied(clock.opened(clock.SlaState(), T0), T0 + timedelta(seconds=10), None)
    assert clock.due_times(state, p, None)["next_response"] is None  # nothing to answer yet
    state = clock.customer_wrote(state, T0 + timedelta(seconds=20), p)
    assert clock.due_times(state, p, None)["next_response"] == T0 + timedelta(seconds=50)
    state = clock.customer_wrote(state, T0 + timedelta(seconds=25), p)  # still the same wait
    state, breaches, _ = clock.evaluate(state, T0 + timedelta(seconds=51), p, None)
    assert [(b.target, b.cycle) for b in breaches] == [("next_response", 1)]
    state = clock.agent_replied(state, T0 + timedelta(seconds=60), None)
    state = clock.customer_wrote(state, T0 + timedelta(seconds=100), p)
    state, breaches, _ = clock.evaluate(state, T0 + timedelta(seconds=131), p, None)
    assert [(b.target, b.cycle) for b in breaches] == [("next_response", 2)]


def test_pending_and_snoozed_stop_the_clock_unless_configured_otherwise() -> None:
    p = policy(resolution_seconds=100)
    state = clock.opened(clock.SlaState(), T0)
    state = clock.status_changed(state, "snoozed", T0 + timedelta(seconds=40), p, None)
    assert clock.due_times(state, p, None)["resolution"] is None
    assert clock.summary(state, p, None, [])["paused"] is True
    state = clock.status_changed(state, "open", T0 + timedelta(seconds=1000), p, None)
    assert clock.due_times(state, p, None)["resolution"] == T0 + timedelta(seconds=1060)
    keeps_running = policy(resolution_seconds=100, pause_statuses=())
    state = clock.opened(clock.SlaState(), T0)
    state = clock.status_changed(state, "pending", T0 + timedelta(seconds=40), keeps_running, None)
    assert clock.due_times(state, keeps_running, None)["resolution"] == T0 + timedelta(seconds=100)


def test_resolving_meets_resolution_and_reopening_resumes_it() -> None:
    p = policy(resolution_seconds=100)
    state = clock.opened(clock.SlaState(), T0)
    state = clock.status_changed(state, "resolved", T0 + timedelta(seconds=30), p, None)
    state, breaches, check_at = clock.evaluate(state, T0 + timedelta(days=1), p, None)
    assert breaches == [] and check_at is None
    state = clock.status_changed(state, "open", T0 + timedelta(seconds=500), p, None)
    assert clock.due_times(state, p, None)["resolution"] == T0 + timedelta(seconds=570)


def test_business_hours_policy_counts_only_open_time() -> None:
    p = policy(first_response_seconds=3600, business_hours_only=True)
    evening = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # after closing (15:00 UTC)
    state = clock.opened(clock.SlaState(), evening)
    assert clock.due_times(state, p, WEEKDAYS)["first_response"] == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    state, breaches, _ = clock.evaluate(state, datetime(2026, 3, 3, 6, 59, tzinfo=UTC), p, WEEKDAYS)
    assert breaches == []


def test_state_survives_a_round_trip_through_json() -> None:
    p = policy(first_response_seconds=60, next_response_seconds=30)
    state = clock.customer_wrote(clock.agent_replied(clock.opened(clock.SlaState(), T0), T0, None), T0, p)
    assert clock.SlaState.from_json(state.to_json()) == state


def test_most_specific_policy_wins() -> None:
    rows = [
        SlaPolicy(id=_uuid(1), name="inbox", first_response_seconds=600, pause_statuses=[]),
        SlaPolicy(id=_uuid(2), name="team", first_response_seconds=300, pause_statuses=[]),
        SlaPolicy(id=_uuid(3), name="vip", first_response_seconds=60, pause_statuses=[]),
        SlaPolicy(id=_uuid(4), name="billing", first_response_seconds=120, pause_statuses=[]),
    ]
    inbox, team = _uuid(10), _uuid(11)
    account = build(
        rows,
        [
            ("inbox", str(inbox), _uuid(1)),
            ("team", str(team), _uuid(2)),
            ("label", "vip", _uuid(3)),
            ("label", "billing", _uuid(4)),
        ],
    )
    assert account.resolve(inbox, None, []).id == str(_uuid(1))  # type: ignore[union-attr]
    assert account.resolve(inbox, team, []).id == str(_uuid(2))  # type: ignore[union-attr]
    assert account.resolve(inbox, team, ["billing"]).id == str(_uuid(4))  # type: ignore[union-attr]
    assert account.resolve(inbox, team, ["billing", "vip"]).id == str(_uuid(3))  # type: ignore[union-attr]
    assert account.resolve(_uuid(99), None, ["other"]) is None


def _uuid(n: int):
    import uuid

    return uuid.UUID(int=n)


@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["reply", "write", "pending", "snoozed", "open", "resolved", "check"]), st.integers(1, 5000)
        ),
        max_size=30,
    ),
    hours=st.booleans(),
)
def test_breaches_happen_once_per_clock_and_never_before_due(steps: list[tuple[str, int]], hours: bool) -> None:
    p = policy(
        first_response_seconds=600, next_response_seconds=300, resolution_seconds=3600, business_hours_only=hours
    )
    config = WEEKDAYS if hours else None
    now = T0
    state = clock.opened(clock.SlaState(), now)
    seen: set[tuple[str, int]] = set()
    for action, seconds in steps:
        now += timedelta(seconds=seconds)
        state, breaches, check_at = clock.evaluate(state, now, p, config)
        for breach in breaches:
            assert breach.due_at <= now
            assert (breach.target, breach.cycle) not in seen
            seen.add((breach.target, breach.cycle))
        assert check_at is None or check_at > now
        if action == "reply":
            state = clock.agent_replied(state, now, config)
        elif action == "write":
            state = clock.customer_wrote(state, now, p)
        elif action != "check":
            state = clock.status_changed(state, action, now, p, config)
        for name in clock.TARGETS:
            c = state.clock(name)
            assert c.consumed >= 0
            assert not (c.met_at is not None and c.running)


def test_a_policy_without_targets_is_the_accounts_default() -> None:
    rows = [
        SlaPolicy(id=_uuid(1), name="inbox", first_response_seconds=600, pause_statuses=[]),
        SlaPolicy(id=_uuid(5), name="default", first_response_seconds=3600, pause_statuses=[]),
        SlaPolicy(id=_uuid(6), name="stricter default", first_response_seconds=1800, pause_statuses=[]),
    ]
    inbox = _uuid(10)
    account = build(rows, [("inbox", str(inbox), _uuid(1))])
    assert account.resolve(inbox, None, []).id == str(_uuid(1))  # type: ignore[union-attr]
    # Anything no inbox, team or label policy covers gets the most demanding default.
    assert account.resolve(_uuid(99), None, ["other"]).id == str(_uuid(6))  # type: ignore[union-attr]
    assert build(rows[:1], [("inbox", str(inbox), _uuid(1))]).resolve(_uuid(99), None, []) is None
