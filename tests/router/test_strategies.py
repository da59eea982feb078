"""The pure routing decisions, with generated candidates: whatever the pool, the choice is eligible and
matches the strategy's rule."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from switchboard_router.strategies import Candidate, choose

SKILLS = ["fr", "en", "billing", "tech"]

candidates = st.builds(
    Candidate,
    agent_id=st.uuids(),
    load=st.integers(min_value=0, max_value=8).map(float),
    open_count=st.integers(min_value=0, max_value=8),
    capacity=st.integers(min_value=0, max_value=8),
    skills=st.frozensets(st.sampled_from(SKILLS)),
    last_assigned_at=st.one_of(st.none(), st.floats(min_value=0, max_value=1e6)),
)
pools = st.lists(candidates, max_size=12, unique_by=lambda c: c.agent_id)
strategy_names = st.sampled_from(["least_busy", "round_robin", "sticky"])
skill_sets = st.frozensets(st.sampled_from(SKILLS), max_size=2)
weights = st.sampled_from([0.5, 1.0, 2.0])


def eligible(c: Candidate, weight: float, required: frozenset[str]) -> bool:
    return required <= c.skills and c.load + weight <= c.capacity


@settings(max_examples=300, deadline=None)
@given(pools, strategy_names, weights, skill_sets, skill_sets)
def test_choice_is_always_eligible_and_none_only_when_nobody_fits(
    pool: list[Candidate], strategy: str, weight: float, required: frozenset[str], preferred: frozenset[str]
) -> None:
    decision = choose(strategy, pool, weight=weight, required=required, preferred=preferred)
    fitting = [c for c in pool if eligible(c, weight, required)]
    if decision.agent_id is None:
        assert fitting == []
        assert decision.explanation["outcome"] in ("no_online_agent", "no_agent_with_skills", "all_agents_at_capacity")
    else:
        chosen = next(c for c in pool if c.agent_id == decision.agent_id)
        assert eligible(chosen, weight, required)
        assert decision.explanation["chosen"] == str(chosen.agent_id)
    assert len(decision.explanation["candidates"]) == len(pool)


@settings(max_examples=300, deadline=None)
@given(pools)
def test_least_busy_takes_fewest_open_then_longest_idle(pool: list[Candidate]) -> None:
    decision = choose("least_busy", pool)
    fitting = [c for c in pool if eligible(c, 1.0, frozenset())]
    if not fitting:
        assert decision.agent_id is None
        return
    chosen = next(c for c in pool if c.agent_id == decision.agent_id)
    assert chosen.open_count == min(c.open_count for c in fitting)
    ties = [c for c in fitting if c.open_count == chosen.open_count and c.load == chosen.load]
    idle = [c.last_assigned_at if c.last_assigned_at is not None else float("-inf") for c in ties]
    assert (chosen.last_assigned_at if chosen.last_assigned_at is not None else float("-inf")) == min(idle)


@settings(max_examples=300, deadline=None)
@given(pools)
def test_round_robin_takes_the_longest_idle(pool: list[Candidate]) -> None:
    decision = choose("round_robin", pool)
    fitting = [c for c in pool if eligible(c, 1.0, frozenset())]
    if not fitting:
        assert decision.agent_id is None
        return
    key = {c.agent_id: c.last_assigned_at if c.last_assigned_at is not None else float("-inf") for c in fitting}
    assert key[decision.agent_id] == min(key.values())


@settings(max_examples=200, deadline=None)
@given(pools, st.data())
def test_sticky_prefers_the_previous_agent_when_eligible(pool: list[Candidate], data: st.DataObject) -> None:
    previous = data.draw(st.sampled_from([c.agent_id for c in pool])) if pool else uuid.uuid4()
    decision = choose("sticky", pool, previous_agent=previous)
    prev = next((c for c in pool if c.agent_id == previous), None)
    if prev is not None and eligible(prev, 1.0, frozenset()):
        assert decision.agent_id == previous
        assert decision.explanation["outcome"] == "sticky_previous_agent"
    elif decision.agent_id is not None:
        assert decision.agent_id != previous


@settings(max_examples=200, deadline=None)
@given(pools, strategy_names, st.data())
def test_declined_agents_only_as_a_last_resort(pool: list[Candidate], strategy: str, data: st.DataObject) -> None:
    excluded = set(data.draw(st.lists(st.sampled_from([c.agent_id for c in pool]), max_size=3))) if pool else set()
    decision = choose(strategy, pool, excluded=excluded)
    fitting = [c for c in pool if eligible(c, 1.0, frozenset())]
    others = [c for c in fitting if c.agent_id not in excluded]
    if others:
        assert decision.agent_id in {c.agent_id for c in others}
    elif fitting:
        assert decision.agent_id in excluded
        assert decision.explanation["fallback"] == "only_previously_declined_agents"


@given(pools)
def test_manual_never_assigns(pool: list[Candidate]) -> None:
    decision = choose("manual", pool)
    assert decision.agent_id is None
    assert decision.explanation["outcome"] == "queued_for_claim"


def test_preferred_skills_win_over_load() -> None:
    a = Candidate(agent_id=uuid.uuid4(), load=0, open_count=0, capacity=5, skills=frozenset())
    b = Candidate(agent_id=uuid.uuid4(), load=3, open_count=3, capacity=5, skills=frozenset({"fr"}))
    assert choose("least_busy", [a, b], preferred={"fr"}).agent_id == b.agent_id
    assert choose("least_busy", [a, b]).agent_id == a.agent_id
