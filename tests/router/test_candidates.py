"""The router's candidate index picks exactly what the reference rules pick (strategies.choose), for generated
accounts — teams, skills, capacities, loads, weights, preferences, exclusions, sticky agents — also after its
agents' loads and presence change in place; and it explains large pools without listing every agent."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from switchboard_router.candidates import Agent, CandidateIndex
from switchboard_router.strategies import Candidate, choose

SKILLS = ["fr", "en", "billing", "tech"]
TEAMS = [uuid.UUID(int=1), uuid.UUID(int=2)]

agents_strategy = st.lists(
    st.builds(
        Agent,
        id=st.uuids(),
        capacity=st.integers(min_value=0, max_value=6).map(float),
        skills=st.frozensets(st.sampled_from(SKILLS)),
        teams=st.frozensets(st.sampled_from(TEAMS)),
        online=st.booleans(),
        load=st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, 5.5]),
        held=st.integers(min_value=0, max_value=6),
        last_assigned=st.one_of(st.none(), st.sampled_from([10.0, 20.0, 30.0])),
    ),
    max_size=14,
    unique_by=lambda a: a.id,
)
decisions = st.fixed_dictionaries(
    {
        "strategy": st.sampled_from(["least_busy", "round_robin", "sticky", "manual"]),
        "team": st.sampled_from([None, *TEAMS]),
        "weight": st.sampled_from([0.5, 1.0, 2.0]),  # never below the account's lightest (see below)
        "required": st.frozensets(st.sampled_from(SKILLS), max_size=2),
        "preferred": st.frozensets(st.sampled_from(SKILLS), max_size=3),
        "lightest": st.sampled_from([0.5, 1.0]),
    }
)


def reference(agents: list[Agent], decision: dict, previous: uuid.UUID | None, excluded: set[uuid.UUID]):  # type: ignore[no-untyped-def]
    team = decision["team"]
    pool = [
        Candidate(
            agent_id=a.id,
            load=a.load,
            open_count=a.held,
            capacity=a.capacity,  # type: ignore[arg-type]
            skills=a.skills,
            last_assigned_at=a.last_assigned,
        )
        for a in agents
        if a.online and (team is None or team in a.teams)
    ]
    return choose(
        decision["strategy"],
        pool,
        weight=decision["weight"],
        required=decision["required"],
        preferred=decision["preferred"],
        previous_agent=previous,
        excluded=excluded,
    )


def indexed(index: CandidateIndex, decision: dict, previous: uuid.UUID | None, excluded: set[uuid.UUID]):  # type: ignore[no-untyped-def]
    return index.choose(
        decision["strategy"],
        team=decision["team"],
        weight=decision["weight"],
        required=decision["required"],
        preferred=decision["preferred"],
        previous_agent=previous,
        excluded=excluded,
    )


@settings(max_examples=300, deadline=None)
@given(agents_strategy, decisions, st.data())
def test_index_chooses_like_the_reference(agents: list[Agent], decision: dict, data: st.DataObject) -> None:
    ids = [a.id for a in agents]
    previous = data.draw(st.sampled_from(ids)) if ids and data.draw(st.booleans()) else None
    excluded = set(data.draw(st.lists(st.sampled_from(ids), max_size=3))) if ids else set()
    # The lightest weight is the smallest any conversation of the account can have.
    index = CandidateIndex({a.id: a for a in agents}, min(decision["lightest"], decision["weight"]))
    # Lists are built lazily: decide once, change agents in place, decide again (the lists follow).
    indexed(index, decision, previous, excluded)
    for agent in data.draw(st.lists(st.sampled_from(agents), max_size=4)) if agents else []:
        agent.load = data.draw(st.sampled_from([0.0, 1.0, 4.0]))
        agent.held = data.draw(st.integers(min_value=0, max_value=4))
        agent.online = data.draw(st.booleans())
        agent.last_assigned = data.draw(st.one_of(st.none(), st.sampled_from([5.0, 25.0])))
        index.refresh(agent)
    expected = reference(agents, decision, previous, excluded)
    got = indexed(index, decision, previous, excluded)
    assert got.agent_id == expected.agent_id, (got.explanation, expected.explanation)
    assert got.explanation["outcome"] == expected.explanation["outcome"]
    assert got.explanation.get("fallback") == expected.explanation.get("fallback")
    assert sorted(c["agent_id"] for c in got.explanation["candidates"]) == sorted(
        c["agent_id"] for c in expected.explanation["candidates"]
    )


def test_large_pools_are_explained_by_what_was_examined() -> None:
    agents = {a.id: a for a in (Agent(uuid.uuid4(), capacity=2, online=True) for _ in range(500))}
    index = CandidateIndex(agents, 1.0)
    choice = index.choose("least_busy", team=None, weight=1.0)
    assert choice.agent_id is not None
    assert choice.explanation["pool_size"] == 500
    assert 1 <= len(choice.explanation["candidates"]) <= 20
    # Everybody full: nobody listed, the outcome says why.
    for agent in agents.values():
        agent.load, agent.held = 2.0, 2
        index.refresh(agent)
    assert not index.any_room()
    full = index.choose("least_busy", team=None, weight=1.0)
    assert full.agent_id is None and full.explanation["outcome"] == "all_agents_at_capacity"
