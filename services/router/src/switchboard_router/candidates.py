"""Choosing an agent in O(log n): the account's online agents with room, indexed by team and skill and ordered
the way each strategy picks, so a decision costs the same with 20 agents or 7,500.

The rules are those of :func:`switchboard_router.strategies.choose` (the reference, tested with hypothesis;
``tests/test_router_candidates.py`` checks this index picks the same agent for any pool): required skills
filter, preferred skills rank first, then least busy (fewest held, lowest load, longest idle) or round robin
(longest idle); agents who declined or missed the conversation lately only as a last resort; sticky takes
the previous agent when eligible.

An ordered list exists per (order, team, skill) once a decision needed it, and holds the agents who can take at
least the account's lightest conversation; a change of an agent's load, presence, teams or skills moves their
entries (:meth:`CandidateIndex.refresh`). A search walks one list from the front and stops at the first agent
that fits: agents without room for this weight are skipped, which is rare since full agents are not listed.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from sortedcontainers import SortedList
from switchboard_common.domain.conversations import lifecycle

# Pools at most this large are explained in full (every candidate and why it was skipped), as before; larger
# ones list the candidates examined and the pool's size.
FULL_EXPLANATION_POOL = 20
EXAMINED_LIMIT = 20
# Beyond this many preferred skills the subset search gives way to one scan of the pool.
PREFERENCE_SUBSETS_LIMIT = 4
NEVER = float("-inf")


@dataclass(slots=True, eq=False)
class Agent:
    """An agent as the writer keeps them: settings, presence, and what they hold."""

    id: uuid.UUID
    max_conversations: int | None = None
    capacity: float = 0
    skills: frozenset[str] = frozenset()
    teams: frozenset[uuid.UUID] = frozenset()
    online: bool = False
    active: bool = True
    load: float = 0.0
    held: int = 0
    # Seconds since the epoch of the last assignment; None = never (idle the longest).
    last_assigned: float | None = None
    key: str = field(default="", init=False)

    def __post_init__(self) -> None:
        self.key = str(self.id)

    @property
    def routable(self) -> bool:
        return self.online and self.active

    def idle(self) -> float:
        return self.last_assigned if self.last_assigned is not None else NEVER

    def fits(self, weight: float) -> bool:
        return lifecycle.fits(self.load, weight, self.capacity)

    def entry(self, skipped: str | None = None) -> dict[str, Any]:
        entry: dict[str, Any] = {"agent_id": self.key, "load": self.load, "open": self.held, "capacity": self.capacity}
        if skipped:
            entry["skipped"] = skipped
        return entry


def order_key(order: str, agent: Agent) -> tuple[Any, ...]:
    """How a strategy ranks agents (the agent's id string last, so two entries never tie: list entries are
    this key followed by the agent itself, which is thus never compared)."""
    if order == "round_robin":
        return (agent.idle(), agent.key)
    return (agent.held, agent.load, agent.idle(), agent.key)


@dataclass
class Choice:
    agent_id: uuid.UUID | None
    explanation: dict[str, Any]


ListKey = tuple[str, uuid.UUID | None, str | None]


class CandidateIndex:
    def __init__(self, agents: dict[uuid.UUID, Agent], lightest_weight: float) -> None:
        self.agents = agents
        self.lightest = lightest_weight
        # Routable agents per team (None: the whole account), and per (team, skill).
        self.members: dict[uuid.UUID | None, set[uuid.UUID]] = {}
        self.skilled: dict[tuple[uuid.UUID | None, str], set[uuid.UUID]] = {}
        self._membership: dict[uuid.UUID, tuple[frozenset[uuid.UUID | None], frozenset[str]]] = {}
        self._lists: dict[ListKey, SortedList] = {}
        self._entries: dict[uuid.UUID, list[tuple[SortedList, tuple[Any, ...]]]] = {}
        for agent in agents.values():
            self.refresh(agent)

    # --- maintenance --------------------------------------------------------------------------------

    def refresh(self, agent: Agent) -> None:
        """Call after any change of the agent (load, presence, teams, skills, capacity, last assignment)."""
        self._update_membership(agent)
        for sorted_list, entry in self._entries.pop(agent.id, ()):
            sorted_list.remove(entry)
        if not self._listed(agent):
            return
        entries = []
        for team in self._membership[agent.id][0]:
            for skill in (None, *agent.skills):
                for order in ("least_busy", "round_robin"):
                    sorted_list = self._lists.get((order, team, skill))
                    if sorted_list is not None:
                        entry = (*order_key(order, agent), agent)
                        sorted_list.add(entry)
                        entries.append((sorted_list, entry))
        if entries:
            self._entries[agent.id] = entries

    def set_lightest(self, weight: float) -> None:
        if weight != self.lightest:
            self.lightest = weight
            for agent in self.agents.values():
                self.refresh(agent)

    def _listed(self, agent: Agent) -> bool:
        return agent.routable and agent.fits(self.lightest)

    def _update_membership(self, agent: Agent) -> None:
        teams: frozenset[uuid.UUID | None] = frozenset({None, *agent.teams}) if agent.routable else frozenset()
        skills = agent.skills if agent.routable else frozenset()
        old_teams, old_skills = self._membership.get(agent.id, (frozenset(), frozenset()))
        if (teams, skills) == (old_teams, old_skills):
            return
        for team in old_teams:
            self.members[team].discard(agent.id)
            for skill in old_skills:
                self.skilled[(team, skill)].discard(agent.id)
        for team in teams:
            self.members.setdefault(team, set()).add(agent.id)
            for skill in skills:
                self.skilled.setdefault((team, skill), set()).add(agent.id)
        if teams:
            self._membership[agent.id] = (teams, skills)
        else:
            self._membership.pop(agent.id, None)

    def _list(self, order: str, team: uuid.UUID | None, skill: str | None) -> SortedList:
        key = (order, team, skill)
        sorted_list = self._lists.get(key)
        if sorted_list is None:
            ids = self.members.get(team, set()) if skill is None else self.skilled.get((team, skill), set())
            listed = [self.agents[i] for i in ids if self._listed(self.agents[i])]
            sorted_list = SortedList()
            self._lists[key] = sorted_list
            for agent in listed:
                entry = (*order_key(order, agent), agent)
                sorted_list.add(entry)
                self._entries.setdefault(agent.id, []).append((sorted_list, entry))
        return sorted_list

    def any_room(self, weight: float | None = None) -> bool:
        """Whether some routable agent can take a conversation of ``weight`` (default: the lightest)."""
        sorted_list = self._list("least_busy", None, None)
        if weight is None or weight <= self.lightest:
            return bool(sorted_list)
        return any(self._by_key(entry).fits(weight) for entry in sorted_list)

    @staticmethod
    def _by_key(entry: tuple[Any, ...]) -> Agent:
        agent: Agent = entry[-1]
        return agent

    # --- choosing -----------------------------------------------------------------------------------

    def choose(
        self,
        strategy: str,
        *,
        team: uuid.UUID | None,
        weight: float,
        required: Collection[str] = (),
        preferred: Collection[str] = (),
        previous_agent: uuid.UUID | None = None,
        excluded: Collection[uuid.UUID] = (),
    ) -> Choice:
        """The decision and its explanation (same rules as strategies.choose)."""
        required_set, preferred_set = frozenset(required), frozenset(preferred)
        pool = self.members.get(team, set())
        explanation: dict[str, Any] = {"strategy": strategy, "weight": weight}
        if required_set:
            explanation["required_skills"] = sorted(required_set)
        if preferred_set:
            explanation["preferred_skills"] = sorted(preferred_set)
        excluded_set = {a for a in excluded if a in pool}
        examined: list[dict[str, Any]] = []
        full = len(pool) <= FULL_EXPLANATION_POOL
        if full:
            explanation["candidates"] = [self._considered(a, required_set, weight, excluded_set) for a in pool]
        else:
            explanation["pool_size"] = len(pool)
            explanation["candidates"] = examined
        if strategy == "manual":
            explanation["outcome"] = "queued_for_claim"
            return Choice(None, explanation)
        order = "round_robin" if strategy == "round_robin" else "least_busy"

        def eligible(agent_id: uuid.UUID) -> bool:
            agent = self.agents.get(agent_id)
            return agent is not None and agent_id in pool and required_set <= agent.skills and agent.fits(weight)

        if (
            strategy == "sticky"
            and previous_agent is not None
            and eligible(previous_agent)
            and previous_agent not in excluded_set
        ):
            return self._chosen(explanation, previous_agent, "sticky_previous_agent")
        best = self._search(order, team, required_set, preferred_set, weight, excluded_set, examined)
        if best is None:
            fallback = [a for a in excluded_set if eligible(a)]
            if fallback:
                # Nobody else can take it: better the agent who missed it once than an endless wait.
                explanation["fallback"] = "only_previously_declined_agents"
                if strategy == "sticky" and previous_agent in fallback:
                    return self._chosen(explanation, previous_agent, "sticky_previous_agent")
                best = min(
                    (self.agents[a] for a in fallback),
                    key=lambda a: (-len(preferred_set & a.skills), *order_key(order, a)),
                )
        if best is None:
            if not pool:
                explanation["outcome"] = "no_online_agent"
            elif not self._anyone_with(team, required_set):
                explanation["outcome"] = "no_agent_with_skills"
            else:
                explanation["outcome"] = "all_agents_at_capacity"
            return Choice(None, explanation)
        if strategy == "sticky" and previous_agent is not None:
            explanation["sticky_fallback"] = "previous_agent_unavailable"
        return self._chosen(explanation, best.id, "assigned")

    @staticmethod
    def _chosen(explanation: dict[str, Any], agent_id: uuid.UUID, outcome: str) -> Choice:
        explanation["outcome"] = outcome
        explanation["chosen"] = str(agent_id)
        return Choice(agent_id, explanation)

    def _considered(
        self, agent_id: uuid.UUID, required: frozenset[str], weight: float, excluded: set[uuid.UUID]
    ) -> dict[str, Any]:
        agent = self.agents[agent_id]
        if not required <= agent.skills:
            return agent.entry("missing_skills")
        if not agent.fits(weight):
            return agent.entry("at_capacity")
        if agent_id in excluded:
            return agent.entry("declined_or_missed_before")
        return agent.entry()

    def _anyone_with(self, team: uuid.UUID | None, skills: frozenset[str]) -> bool:
        if not skills:
            return bool(self.members.get(team))
        sets = sorted((self.skilled.get((team, s), set()) for s in skills), key=len)
        return any(all(a in other for other in sets[1:]) for a in sets[0])

    def _search(
        self,
        order: str,
        team: uuid.UUID | None,
        required: frozenset[str],
        preferred: frozenset[str],
        weight: float,
        excluded: set[uuid.UUID],
        examined: list[dict[str, Any]],
    ) -> Agent | None:
        """The best eligible agent: most preferred skills first, then the strategy's order."""
        wanted = preferred - required
        if len(wanted) > PREFERENCE_SUBSETS_LIMIT:
            candidates = (
                a for a in self._scan(order, team, required, weight, excluded, examined, limit=None) if a is not None
            )
            return min(candidates, key=lambda a: (-len(wanted & a.skills), *order_key(order, a)), default=None)
        for size in range(len(wanted), -1, -1):
            found = [
                agent
                for subset in itertools.combinations(sorted(wanted), size)
                if (agent := next(self._scan(order, team, required | frozenset(subset), weight, excluded, examined)))
                is not None
            ]
            if found:
                return min(found, key=lambda a: order_key(order, a))
        return None

    def _scan(
        self,
        order: str,
        team: uuid.UUID | None,
        skills: frozenset[str],
        weight: float,
        excluded: set[uuid.UUID],
        examined: list[dict[str, Any]],
        limit: int | None = 1,
    ) -> Iterator[Agent | None]:
        """Eligible agents having ``skills``, in order (up to ``limit``), then None."""
        if skills:
            rarest = min(skills, key=lambda s: len(self.skilled.get((team, s), ())))
            sorted_list = self._list(order, team, rarest)
        else:
            sorted_list = self._list(order, team, None)
        found = 0
        for entry in sorted_list:
            agent = self._by_key(entry)
            reason = None
            if not skills <= agent.skills:
                continue
            if not agent.fits(weight):
                reason = "at_capacity"
            elif agent.id in excluded:
                reason = "declined_or_missed_before"
            if reason is None:
                if len(examined) < EXAMINED_LIMIT:
                    examined.append(agent.entry())
                yield agent
                found += 1
                if limit is not None and found >= limit:
                    break
            elif len(examined) < EXAMINED_LIMIT:
                examined.append(agent.entry(reason))
        yield None
