"""The conversation lifecycle, driven by hypothesis through random sequences of every transition (stateful
testing) on an account with random capacities and channel weights in (0, 100]. After every step: no agent is
over capacity, loads kept from the outcomes equal loads recomputed from scratch, every conversation is in
exactly one well-formed state, and every assignment is explained (history, event and explanation agree)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from switchboard_common.domain.accounts.models import Account
from switchboard_common.domain.conversations import lifecycle as lc
from switchboard_common.domain.conversations import routing
from switchboard_common.domain.events import (
    ConversationAssigned,
    ConversationOffered,
    ConversationUnassigned,
    parse_event,
    serialize_event,
)
from switchboard_common.domain.inboxes.models import Inbox

CHANNELS = ("web", "slack", "messenger", "api")
START = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
weights_strategy = st.dictionaries(
    st.sampled_from(CHANNELS), st.floats(min_value=0.01, max_value=100, allow_nan=False), max_size=4
)


class Lifecycle(RuleBasedStateMachine):
    """The machine's state is what a router keeps: conversations, timers per conversation, loads per agent."""

    @initialize(
        capacities=st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=4), weights=weights_strategy
    )
    def setup(self, capacities: list[int], weights: dict[str, float]) -> None:
        self.account = uuid.uuid4()
        self.agents = {uuid.uuid4(): float(capacity) for capacity in capacities}
        self.weights = weights
        self.loads = dict.fromkeys(self.agents, 0.0)
        self.conversations: dict[uuid.UUID, lc.Conversation] = {}
        self.timers: dict[uuid.UUID, dict[str, lc.Timer]] = {}
        self.assigned_events: dict[uuid.UUID, list[ConversationAssigned]] = {}
        self.history: dict[uuid.UUID, list[lc.HistoryEntry]] = {}
        self.event_ids: set[uuid.UUID] = set()
        self.now = START

    # --- helpers ---------------------------------------------------------------------------------------

    def weight(self, c: lc.Conversation) -> float:
        return lc.channel_weight(c.channel, self.weights)

    def room(self, agent_id: uuid.UUID) -> lc.AgentRoom:
        return lc.AgentRoom(agent_id, self.loads[agent_id], self.agents[agent_id])

    def apply(self, outcome: lc.Outcome) -> None:
        before, after = outcome.before, outcome.after
        assert self.conversations[before.id] == before
        assert after.version >= before.version
        for agent_id, delta, _ in outcome.load_changes(self.weight(after)):
            self.loads[agent_id] += delta
        self.conversations[after.id] = after
        self.timers[after.id] = lc.apply_timer_changes(self.timers[after.id], outcome.timers)
        self.history[after.id].extend(outcome.history)
        for event in outcome.events:
            # Decision events are built without validation: what they serialize to must parse back as they are.
            assert parse_event(serialize_event(event)) == event
            assert event.event_id not in self.event_ids, "two decisions share an event id"
            self.event_ids.add(event.event_id)
            if isinstance(event, ConversationAssigned):
                self.assigned_events[after.id].append(event)
            if isinstance(event, ConversationOffered | ConversationUnassigned):
                assert event.conversation_id == after.id
        if outcome.route:
            self.route(after)

    def route(self, c: lc.Conversation) -> None:
        """A router's decision: the first agent with room (an offer every other time), else the queue."""
        fitting = [a for a in self.agents if lc.fits(self.loads[a], self.weight(c), self.agents[a])]
        if not fitting:
            self.apply(lc.queue(c, now=self.now, explanation={"outcome": "all_agents_at_capacity"}))
            return
        agent = self.room(fitting[0])
        if c.version % 2:
            self.apply(
                lc.offer(
                    c, agent, weight=self.weight(c), now=self.now, seconds=30, strategy="least_busy", explanation={}
                )
            )
        else:
            self.apply(
                lc.assign(
                    c,
                    agent,
                    weight=self.weight(c),
                    now=self.now,
                    strategy="least_busy",
                    explanation={"strategy": "least_busy", "outcome": "assigned"},
                    reason="routed",
                    first_response_seconds=60,
                )
            )

    def attempt(self, transition: object) -> None:
        """A transition that may be refused: refused ones change nothing."""
        try:
            outcome = transition()  # type: ignore[operator]
        except lc.Refused as refused:
            assert refused.status in (403, 404, 409)
            return
        self.apply(outcome)

    def pick(self, data: st.DataObject, *, where: object = None) -> lc.Conversation | None:
        candidates = [c for c in self.conversations.values() if where is None or where(c)]  # type: ignore[operator]
        return data.draw(st.sampled_from(candidates)) if candidates else None

    # --- rules ----------------------------------------------------------------------------------------

    @rule(channel=st.sampled_from(CHANNELS), bot=st.booleans())
    def created(self, channel: str, bot: bool) -> None:
        c = lc.Conversation(
            id=uuid.uuid4(),
            account_id=self.account,
            inbox_id=uuid.uuid4(),
            contact_id=uuid.uuid4(),
            channel=channel,
            status="bot" if bot else "open",
            created_at=self.now,
        )
        self.conversations[c.id] = c
        self.timers[c.id] = {}
        self.history[c.id] = []
        self.assigned_events[c.id] = []
        if not bot:
            self.route(c)

    @rule(seconds=st.integers(min_value=1, max_value=7200))
    def time_passes(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    @precondition(lambda self: self.conversations)
    @rule(data=st.data())
    def timer_fires(self, data: st.DataObject) -> None:
        due = [(cid, t) for cid, timers in self.timers.items() for t in timers.values() if t.due_at <= self.now]
        if not due:
            return
        cid, timer = data.draw(st.sampled_from(due))
        self.timers[cid] = {k: t for k, t in self.timers[cid].items() if k != timer.kind}
        inbox = {"auto_resolve_seconds": 3600, "escalation_seconds": 600}
        self.apply(lc.fire(self.conversations[cid], timer, lc.TimerContext(now=self.now, inbox=inbox)))

    @precondition(lambda self: self.conversations)
    @rule(data=st.data(), agent_index=st.integers(min_value=0, max_value=3), claim=st.booleans())
    def manual_assign(self, data: st.DataObject, agent_index: int, claim: bool) -> None:
        c = self.pick(data)
        agent = list(self.agents)[agent_index % len(self.agents)]
        assert c is not None
        self.attempt(
            lambda: lc.assign(
                c,
                self.room(agent),
                weight=self.weight(c),
                now=self.now,
                strategy="manual",
                explanation={"strategy": "manual", "outcome": "claimed" if claim else "assigned_by_admin"},
                reason="claimed" if claim else "assigned_by_admin",
            )
        )

    @precondition(lambda self: any(c.offer for c in self.conversations.values()))
    @rule(data=st.data(), take=st.booleans())
    def answer_offer(self, data: st.DataObject, take: bool) -> None:
        c = self.pick(data, where=lambda c: c.offer is not None)
        assert c is not None and c.offer is not None
        agent = c.offer.agent_id
        if take:
            self.attempt(lambda: lc.accept(c, self.room(agent), weight=self.weight(c), now=self.now))
        else:
            self.attempt(lambda: lc.reject(c, agent, now=self.now))

    @precondition(lambda self: self.conversations)
    @rule(data=st.data(), admin=st.booleans())
    def unassign(self, data: st.DataObject, admin: bool) -> None:
        c = self.pick(data)
        assert c is not None
        actor = c.assignee_id if not admin and c.assignee_id else uuid.uuid4()
        self.attempt(lambda: lc.unassign_by(c, now=self.now, actor_id=actor, admin=admin))

    @precondition(lambda self: self.conversations)
    @rule(data=st.data())
    def transfer_to_team(self, data: st.DataObject) -> None:
        c = self.pick(data)
        assert c is not None
        self.attempt(lambda: lc.transfer_to_team(c, uuid.uuid4(), now=self.now, actor_id=uuid.uuid4()))

    @precondition(lambda self: self.conversations)
    @rule(data=st.data(), action=st.sampled_from(["pending", "snooze", "resolve", "reopen", "spam", "not_spam"]))
    def change_status(self, data: st.DataObject, action: str) -> None:
        c = self.pick(data)
        assert c is not None
        actor = uuid.uuid4()
        if action == "pending":
            self.attempt(lambda: lc.set_pending(c, now=self.now, actor_id=actor))
        elif action == "snooze":
            self.attempt(lambda: lc.snooze(c, self.now + timedelta(hours=1), now=self.now, actor_id=actor))
        elif action == "resolve":
            self.attempt(lambda: lc.resolve(c, now=self.now, actor_id=actor))
        elif action == "reopen":
            keep = self.room(c.assignee_id) if c.assignee_id in self.agents else None
            self.attempt(lambda: lc.reopen(c, now=self.now, actor_id=actor, assignee=keep, weight=self.weight(c)))
        else:
            self.attempt(lambda: lc.mark_spam(c, action == "spam", now=self.now, actor_id=actor))

    @precondition(lambda self: self.conversations)
    @rule(data=st.data(), inbound=st.booleans())
    def message(self, data: st.DataObject, inbound: bool) -> None:
        c = self.pick(data, where=lambda c: c.status != "resolved")
        if c is None:
            return
        self.apply(
            lc.message(
                c,
                direction="inbound" if inbound else "outbound",
                sender_type="contact" if inbound else "agent",
                sender_id=None if inbound else c.assignee_id,
                message_id=uuid.uuid4(),
                sent_at=self.now,
                now=self.now,
                auto_resolve_seconds=3600,
            )
        )

    @precondition(lambda self: self.conversations)
    @rule(data=st.data())
    def bot_hands_off(self, data: st.DataObject) -> None:
        c = self.pick(data, where=lambda c: c.status == "bot")
        if c is not None:
            self.apply(lc.handoff(c, {"skills": ["fr"], "priority": 2}))

    @precondition(lambda self: self.conversations)
    @rule(data=st.data())
    def agent_goes_offline(self, data: st.DataObject) -> None:
        agent = data.draw(st.sampled_from(list(self.agents)))
        for c in list(self.conversations.values()):
            if c.assignee_id == agent:
                self.apply(lc.give_back(self.conversations[c.id], now=self.now))

    # --- invariants -----------------------------------------------------------------------------------

    @invariant()
    def nobody_over_capacity(self) -> None:
        if not hasattr(self, "loads"):
            return
        for agent, load in self.loads.items():
            assert load <= self.agents[agent] + 1e-6, f"agent at {load} over capacity {self.agents[agent]}"

    @invariant()
    def loads_match_holders(self) -> None:
        if not hasattr(self, "loads"):
            return
        expected = dict.fromkeys(self.agents, 0.0)
        for c in self.conversations.values():
            held_by = lc.holder(c)
            if held_by is not None:
                expected[held_by] += self.weight(c)
        for agent in self.agents:
            assert self.loads[agent] == pytest.approx(expected[agent], abs=1e-6)

    @invariant()
    def exactly_one_state(self) -> None:
        for c in getattr(self, "conversations", {}).values():
            assert lc.consistency_errors(c) == []
            assert lc.state_of(c) in lc.STATES
            states = {
                "bot": c.status == "bot",
                "unrouted": lc.is_waiting(c) and c.queued_at is None,
                "queued": lc.is_waiting(c) and c.queued_at is not None,
                "offered": c.status == "open" and c.offer is not None,
                "assigned": c.status == "open" and c.assignee_id is not None,
                "pending": c.status == "pending",
                "snoozed": c.status == "snoozed",
                "resolved": c.status == "resolved",
                "spam": c.status == "spam",
            }
            assert [s for s, holds in states.items() if holds] == [lc.state_of(c)]
            # Offers and waiting only ever concern an open conversation without an assignee.
            if c.offer is not None:
                assert "offer" in self.timers[c.id] and self.timers[c.id]["offer"].agent_id == c.offer.agent_id

    @invariant()
    def every_assignment_explained(self) -> None:
        for c in getattr(self, "conversations", {}).values():
            if c.assignee_id is None:
                continue
            events = self.assigned_events[c.id]
            assert events, "an assignee without a conversation.assigned event"
            last = events[-1]
            assert last.payload.agent_id == c.assignee_id
            assert last.payload.explanation.get("reason") and last.payload.explanation.get("decided_at")
            assert c.explanation.get("reason") == last.payload.reason
            assigned = [h for h in self.history[c.id] if h.action == "assigned"]
            assert assigned and assigned[-1].agent_id == c.assignee_id
            assert assigned[-1].details["reason"] == last.payload.reason


Lifecycle.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_lifecycle = Lifecycle.TestCase


def conversation(**fields: object) -> lc.Conversation:
    base: dict[str, object] = {
        "id": uuid.uuid4(),
        "account_id": uuid.uuid4(),
        "inbox_id": uuid.uuid4(),
        "contact_id": uuid.uuid4(),
        "channel": "web",
        "status": "open",
        "created_at": START,
    }
    return lc.Conversation(**{**base, **fields})  # type: ignore[arg-type]


def test_fractional_weights_fit_exactly() -> None:
    # Ten conversations of weight 0.1 fill a capacity of 1 (float sums stay within the rule's epsilon).
    load = 0.0
    for _ in range(10):
        assert lc.fits(load, 0.1, 1)
        load += 0.1
    assert not lc.fits(load, 0.1, 1)
    assert lc.lightest_weight({"messenger": 0.5}) == 0.5
    assert lc.lightest_weight({"slack": 3}) == 1.0


def test_refusals_carry_codes() -> None:
    agent = lc.AgentRoom(uuid.uuid4(), load=2, capacity=2)
    with pytest.raises(lc.Refused) as full:
        lc.assign(conversation(), agent, weight=1, now=START, strategy="manual", explanation={}, reason="claimed")
    assert (full.value.status, full.value.code) == (409, "agent_at_capacity")
    with pytest.raises(lc.Refused) as resolved:
        lc.assign(
            conversation(status="resolved"), agent, weight=1, now=START, strategy="manual", explanation={}, reason="x"
        )
    assert resolved.value.code == "conversation_resolved"
    with pytest.raises(lc.Refused) as no_offer:
        lc.accept(conversation(), agent, weight=1, now=START)
    assert no_offer.value.code == "no_offer"
    with pytest.raises(lc.Refused) as forbidden:
        lc.unassign_by(conversation(assignee_id=uuid.uuid4()), now=START, actor_id=uuid.uuid4(), admin=False)
    assert forbidden.value.status == 403


def test_an_offer_accepted_needs_no_second_slot() -> None:
    agent = lc.AgentRoom(uuid.uuid4(), load=0, capacity=1)
    offered = lc.offer(conversation(), agent, weight=1, now=START, seconds=30, strategy="least_busy", explanation={})
    assert offered.load_changes(1) == [(agent.agent_id, 1, 1)]
    full = lc.AgentRoom(agent.agent_id, load=1, capacity=1)
    accepted = lc.accept(offered.after, full, weight=1, now=START)
    assert accepted.load_changes(1) == []
    assert accepted.after.assignee_id == agent.agent_id


def test_timer_kinds_are_an_extension_point() -> None:
    fired: list[str] = []

    @lc.timer_handler("test_kind")
    def handler(c: lc.Conversation, timer: lc.Timer, context: lc.TimerContext) -> lc.Outcome:
        fired.append(timer.kind)
        return lc.unchanged(c)

    try:
        c = conversation()
        lc.fire(c, lc.Timer("test_kind", START), lc.TimerContext(now=START, inbox={}))
        assert fired == ["test_kind"]
        assert "test_kind" in lc.all_timer_kinds()
        # Resolving cancels every registered kind.
        cancelled = lc.resolve(c, now=START).timers[0]
        assert isinstance(cancelled, lc.CancelTimers) and "test_kind" in cancelled.kinds
        assert lc.fire(c, lc.Timer("unknown", START), lc.TimerContext(now=START, inbox={})).after == c
    finally:
        lc.TIMER_HANDLERS.pop("test_kind")


def test_stored_nulls_mean_the_defaults() -> None:
    """An API client may store null for a setting ("reset it"): the rules see the default, not None."""
    account = Account(name="Nulls", settings={"routing": {"channel_weights": None, "grace_seconds": None}})
    assert routing.account_routing(account)["channel_weights"] == {}
    assert routing.account_routing(account)["grace_seconds"] == routing.ACCOUNT_DEFAULTS["grace_seconds"]
    assert lc.channel_weight("web", routing.account_routing(account)["channel_weights"]) == 1.0
    inbox = Inbox(routing={"strategy": None, "offer_timeout_seconds": None})
    assert routing.inbox_routing(inbox)["strategy"] == "least_busy"


def test_decision_events_built_without_validation_are_valid_events() -> None:
    """The router builds assigned, offered and queued events with ``model_construct`` (no validation per
    decision): each serializes to what the schema accepts and parses back equal, with an explanation as the
    candidate index writes it."""
    c = lc.Conversation(
        id=uuid.uuid4(),
        account_id=uuid.uuid4(),
        inbox_id=uuid.uuid4(),
        contact_id=uuid.uuid4(),
        channel="web",
        status="open",
        created_at=START,
    )
    agent = lc.AgentRoom(uuid.uuid4(), 1.5, 5.0)
    explanation = {
        "strategy": "least_busy",
        "weight": 1.0,
        "required_skills": ["fr"],
        "candidates": [{"agent_id": str(agent.agent_id), "load": 1.5, "open": 2, "capacity": 5.0}],
        "outcome": "assigned",
        "chosen": str(agent.agent_id),
    }
    outcomes = [
        lc.assign(
            c, agent, weight=1, now=START, strategy="least_busy", explanation=explanation, reason="routed", note="hi"
        ),
        lc.offer(c, agent, weight=1, now=START, seconds=30, strategy="round_robin", explanation=explanation),
        lc.queue(c, now=START, explanation={"strategy": "least_busy", "outcome": "all_agents_at_capacity"}),
    ]
    for outcome in outcomes:
        (event,) = outcome.events
        parsed = parse_event(serialize_event(event))
        assert parsed == event and type(parsed) is type(event)
        assert type(event).model_validate(event.model_dump()) == event
