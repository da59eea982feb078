"""Pure routing decisions: given candidates and a conversation's needs, who gets it (or nobody, and why).

No I/O here, so the invariants are tested with generated candidates (hypothesis): the chosen agent is
eligible (online, in the team, has the required skills, has room for the conversation's weight).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from switchboard_common.domain.conversations import lifecycle


@dataclass(frozen=True)
class Candidate:
    agent_id: uuid.UUID
    load: float  # weighted load (capacity units)
    open_count: int  # conversations held
    capacity: int
    skills: frozenset[str] = frozenset()
    # Seconds since epoch of the last assignment; None = never (idle the longest).
    last_assigned_at: float | None = None

    def fits(self, weight: float) -> bool:
        return lifecycle.fits(self.load, weight, self.capacity)


@dataclass
class Decision:
    agent_id: uuid.UUID | None
    explanation: dict[str, Any] = field(default_factory=dict)


def _idle_key(c: Candidate) -> float:
    return c.last_assigned_at if c.last_assigned_at is not None else float("-inf")


def choose(
    strategy: str,
    pool: Sequence[Candidate],
    *,
    weight: float = 1.0,
    required: Collection[str] = (),
    preferred: Collection[str] = (),
    previous_agent: uuid.UUID | None = None,
    excluded: Collection[uuid.UUID] = (),
) -> Decision:
    """The decision and its explanation (strategy, candidates considered, why each was left out)."""
    required_set, preferred_set = set(required), set(preferred)
    considered: list[dict[str, Any]] = []
    eligible: list[Candidate] = []
    skipped_excluded: list[Candidate] = []
    for c in pool:
        entry: dict[str, Any] = {
            "agent_id": str(c.agent_id),
            "load": c.load,
            "open": c.open_count,
            "capacity": c.capacity,
        }
        if not required_set <= c.skills:
            entry["skipped"] = "missing_skills"
        elif not c.fits(weight):
            entry["skipped"] = "at_capacity"
        elif c.agent_id in excluded:
            entry["skipped"] = "declined_or_missed_before"
            skipped_excluded.append(c)
        else:
            eligible.append(c)
        considered.append(entry)
    explanation: dict[str, Any] = {"strategy": strategy, "weight": weight, "candidates": considered}
    if required_set:
        explanation["required_skills"] = sorted(required_set)
    if preferred_set:
        explanation["preferred_skills"] = sorted(preferred_set)
    if strategy == "manual":
        explanation["outcome"] = "queued_for_claim"
        return Decision(None, explanation)
    if not eligible and skipped_excluded:
        # Nobody else can take it: better the agent who missed it once than an endless wait.
        eligible = skipped_excluded
        explanation["fallback"] = "only_previously_declined_agents"
    if not eligible:
        if not pool:
            explanation["outcome"] = "no_online_agent"
        elif not any(required_set <= c.skills for c in pool):
            explanation["outcome"] = "no_agent_with_skills"
        else:
            explanation["outcome"] = "all_agents_at_capacity"
        return Decision(None, explanation)

    def preference(c: Candidate) -> int:
        return -len(preferred_set & c.skills)

    if strategy == "sticky" and previous_agent is not None:
        for c in eligible:
            if c.agent_id == previous_agent:
                explanation["outcome"] = "sticky_previous_agent"
                explanation["chosen"] = str(c.agent_id)
                return Decision(c.agent_id, explanation)
        explanation["sticky_fallback"] = "previous_agent_unavailable"
    if strategy == "round_robin":
        best = min(eligible, key=lambda c: (preference(c), _idle_key(c), str(c.agent_id)))
    else:  # least_busy, and sticky's fallback: fewest open conversations, ties by longest idle
        best = min(eligible, key=lambda c: (preference(c), c.open_count, c.load, _idle_key(c), str(c.agent_id)))
    explanation["outcome"] = "assigned"
    explanation["chosen"] = str(best.agent_id)
    return Decision(best.agent_id, explanation)
