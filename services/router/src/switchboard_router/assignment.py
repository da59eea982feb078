"""Routing flows: place one conversation, drain an account's queue, give back an offline agent's work.

Every flow runs under the per-account advisory lock
(``switchboard_common.domain.conversations.routing.lock_account``), so any
number of router replicas, in any interleaving, and the gateway's manual actions never put an agent over
capacity nor assign twice. Decisions and events commit together (outbox); event ids derive from the
conversation's assignment version, so a replay after a crash republishes the same event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts import presence
from switchboard_common.domain.accounts.models import Account, Team, TeamMember, User
from switchboard_common.domain.conversations import business_hours, lifecycle, routing
from switchboard_common.domain.conversations.models import AgentRoutingState, AgentSkill, Conversation, RoutingHistory
from switchboard_common.domain.events import ConversationOffered, ConversationQueued, Event, MessageCreated
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.infra import metrics
from switchboard_common.infra.db import transaction
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.outbox import add_events, publish_staged
from switchboard_common.infra.runtime import Resources

from switchboard_router.strategies import Candidate, choose

EXCLUSION_WINDOW = timedelta(hours=1)
EXCLUDING_ACTIONS = ("offer_missed", "offer_rejected", "no_reply")


@dataclass
class AccountContext:
    """The account's online agents and their loads, read once under the lock and updated as we decide."""

    account: Account | None
    agents: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    teams_of: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=dict)
    inboxes: dict[uuid.UUID, Inbox | None] = field(default_factory=dict)
    teams: dict[uuid.UUID, Team | None] = field(default_factory=dict)

    @classmethod
    async def load(cls, session: AsyncSession, res: Resources, account_id: uuid.UUID) -> AccountContext:
        account = await session.get(Account, account_id)
        ctx = cls(account=account)
        online = list(await presence.online_agents(res.redis, res.keys, account_id))
        if not online:
            return ctx
        users = (
            await session.execute(
                select(User.id, User.max_conversations).where(
                    User.account_id == account_id, User.id.in_(online), User.deleted_at.is_(None)
                )
            )
        ).all()
        ids = [u.id for u in users]
        skills: dict[uuid.UUID, set[str]] = {}
        for user_id, skill in (
            await session.execute(select(AgentSkill.user_id, AgentSkill.skill).where(AgentSkill.user_id.in_(ids)))
        ).all():
            skills.setdefault(user_id, set()).add(skill)
        for team_id, user_id in (
            await session.execute(select(TeamMember.team_id, TeamMember.user_id).where(TeamMember.user_id.in_(ids)))
        ).all():
            ctx.teams_of.setdefault(user_id, set()).add(team_id)
        last = dict(
            (
                await session.execute(
                    select(AgentRoutingState.user_id, AgentRoutingState.last_assigned_at).where(
                        AgentRoutingState.user_id.in_(ids)
                    )
                )
            ).all()
        )
        weights = routing.account_routing(account)["channel_weights"]
        loads = await routing.agent_loads(session, account_id, ids, weights)
        for u in users:
            load, number = loads.get(u.id, (0.0, 0))
            last_at = last.get(u.id)
            ctx.agents[u.id] = {
                "load": load,
                "open": number,
                "capacity": routing.capacity_of(u.max_conversations, account),
                "skills": frozenset(skills.get(u.id, set())),
                "last": last_at.timestamp() if last_at else None,
            }
        return ctx

    def pool(self, team_id: uuid.UUID | None) -> list[Candidate]:
        return [
            Candidate(
                agent_id=agent_id,
                load=a["load"],
                open_count=a["open"],
                capacity=a["capacity"],
                skills=a["skills"],
                last_assigned_at=a["last"],
            )
            for agent_id, a in self.agents.items()
            if team_id is None or team_id in self.teams_of.get(agent_id, set())
        ]

    def any_room(self) -> bool:
        """Whether any online agent can still take the lightest conversation the account can have."""
        lightest = lifecycle.lightest_weight(routing.account_routing(self.account)["channel_weights"])
        return any(lifecycle.fits(a["load"], lightest, a["capacity"]) for a in self.agents.values())

    def room(self, agent_id: uuid.UUID) -> lifecycle.AgentRoom:
        agent = self.agents[agent_id]
        return lifecycle.AgentRoom(agent_id, agent["load"], agent["capacity"])

    def took(self, agent_id: uuid.UUID, weight: float, now: datetime) -> None:
        agent = self.agents[agent_id]
        agent["load"] += weight
        agent["open"] += 1
        agent["last"] = now.timestamp()

    async def inbox(self, session: AsyncSession, inbox_id: uuid.UUID) -> Inbox | None:
        if inbox_id not in self.inboxes:
            self.inboxes[inbox_id] = await session.get(Inbox, inbox_id)
        return self.inboxes[inbox_id]

    async def team(self, session: AsyncSession, team_id: uuid.UUID | None) -> Team | None:
        if team_id is None:
            return None
        if team_id not in self.teams:
            self.teams[team_id] = await session.get(Team, team_id)
        return self.teams[team_id]


async def _excluded(session: AsyncSession, conversation_ids: list[uuid.UUID], now: datetime) -> dict[uuid.UUID, set]:
    """Agents who missed or declined an offer, or did not reply, for these conversations (recently)."""
    rows = (
        await session.execute(
            select(RoutingHistory.conversation_id, RoutingHistory.agent_id).where(
                RoutingHistory.conversation_id.in_(conversation_ids),
                RoutingHistory.action.in_(EXCLUDING_ACTIONS),
                RoutingHistory.created_at > now - EXCLUSION_WINDOW,
            )
        )
    ).all()
    excluded: dict[uuid.UUID, set] = {}
    for conversation_id, agent_id in rows:
        excluded.setdefault(conversation_id, set()).add(agent_id)
    return excluded


async def _previous_agent(
    session: AsyncSession, conversation: Conversation, window_seconds: float, now: datetime
) -> uuid.UUID | None:
    """The agent who last held a conversation of this contact (sticky), within the window."""
    return await session.scalar(
        select(RoutingHistory.agent_id)
        .join(Conversation, Conversation.id == RoutingHistory.conversation_id)
        .where(
            Conversation.account_id == conversation.account_id,
            Conversation.contact_id == conversation.contact_id,
            RoutingHistory.action == "assigned",
            RoutingHistory.created_at > now - timedelta(seconds=window_seconds),
        )
        .order_by(RoutingHistory.id.desc())
        .limit(1)
    )


async def place(
    session: AsyncSession,
    ctx: AccountContext,
    conversation: Conversation,
    now: datetime,
    excluded: set[uuid.UUID] | None = None,
) -> list[Event]:
    """Assigns, offers or queues one open, unassigned conversation (caller holds the account lock)."""
    inbox = await ctx.inbox(session, conversation.inbox_id)
    team = await ctx.team(session, routing.routed_team_id(conversation, inbox))
    config = routing.conversation_routing(conversation, inbox, team, ctx.account)
    state = routing.state_of_row(conversation, None)
    hours = config.inbox.get("business_hours")
    escalation = float(config.inbox.get("escalation_seconds") or 0)
    if not business_hours.is_open(hours, now):
        explanation = {"strategy": config.strategy, "outcome": "outside_business_hours"}
        outcome = lifecycle.queue(
            state,
            now=now,
            explanation=explanation,
            escalation_seconds=escalation,
            opening=business_hours.next_opening(hours, now),
            out_of_hours_message=str(config.inbox["out_of_hours_message"]),
        )
        return await _store(session, conversation, outcome, config, "queued")
    previous = None
    if config.strategy == "sticky":
        previous = await _previous_agent(session, conversation, float(config.inbox["sticky_window_seconds"]), now)
    if excluded is None:
        excluded = (await _excluded(session, [conversation.id], now)).get(conversation.id, set())
    decision = choose(
        config.strategy,
        ctx.pool(config.team_id),
        weight=config.weight,
        required=config.required,
        preferred=config.preferred,
        previous_agent=previous,
        excluded=excluded,
    )
    if config.team_id is not None:
        decision.explanation["team_id"] = str(config.team_id)
    if decision.agent_id is None:
        outcome = lifecycle.queue(state, now=now, explanation=decision.explanation, escalation_seconds=escalation)
        return await _store(session, conversation, outcome, config, "queued")
    agent = ctx.room(decision.agent_id)
    if conversation.queued_at is not None:
        metrics.QUEUE_WAIT_SECONDS.observe(max((now - conversation.queued_at).total_seconds(), 0))
    offer_seconds = float(config.inbox.get("offer_timeout_seconds") or 0)
    if offer_seconds > 0:
        outcome = lifecycle.offer(
            state,
            agent,
            weight=config.weight,
            now=now,
            seconds=offer_seconds,
            strategy=config.strategy,
            explanation=decision.explanation,
        )
        events = await _store(session, conversation, outcome, config, "offered")
    else:
        outcome = lifecycle.assign(
            state,
            agent,
            weight=config.weight,
            now=now,
            strategy=config.strategy,
            explanation=decision.explanation,
            reason="routed",
            first_response_seconds=float(config.inbox.get("first_response_seconds") or 0),
        )
        events = await _store(session, conversation, outcome, config, "assigned")
    ctx.took(decision.agent_id, config.weight, now)
    return events


async def _store(
    session: AsyncSession,
    conversation: Conversation,
    outcome: lifecycle.Outcome,
    config: routing.ConversationRouting,
    kind: str,
) -> list[Event]:
    if outcome.changed:
        metrics.ASSIGNMENTS.labels(config.strategy, kind).inc()
    return await routing.apply_outcome(session, conversation, outcome)


async def route_conversation(
    res: Resources, account_id: uuid.UUID, conversation_id: uuid.UUID, *, now: datetime | None = None
) -> list[Event]:
    """Places one conversation. Idempotent: an assigned, offered or closed one is left alone."""
    now = now or utcnow()
    events: list[Event] = []
    async with transaction(res.sessionmaker) as session:
        await routing.lock_account(session, account_id)
        conversation = await session.scalar(
            select(Conversation).where(Conversation.id == conversation_id, Conversation.account_id == account_id)
        )
        if conversation is None or conversation.status != "open" or conversation.assignee_id is not None:
            return []
        if await routing.pending_offer(session, conversation.id) is not None:
            return []
        ctx = await AccountContext.load(session, res, account_id)
        events = await place(session, ctx, conversation, now)
        add_events(session, events)
    await publish_staged(res.sessionmaker, res.bus, events)
    return events


async def drain_queue(res: Resources, account_id: uuid.UUID, *, now: datetime | None = None, batch: int = 200) -> int:
    """Places waiting conversations, highest priority then oldest first, while capacity lasts."""
    now = now or utcnow()
    assigned_total = 0
    offset = 0
    while True:
        events: list[Event] = []
        async with transaction(res.sessionmaker) as session:
            await routing.lock_account(session, account_id)
            ctx = await AccountContext.load(session, res, account_id)
            if not ctx.any_room():
                break
            waiting = (
                await session.scalars(
                    select(Conversation)
                    .where(*routing.queued_filter(account_id))
                    .order_by(*routing.QUEUE_ORDER)
                    .offset(offset)
                    .limit(batch)
                )
            ).all()
            excluded = await _excluded(session, [c.id for c in waiting], now)
            left_waiting = 0
            for conversation in waiting:
                if not ctx.any_room():
                    break
                placed = await place(session, ctx, conversation, now, excluded.get(conversation.id, set()))
                events.extend(placed)
                if conversation.assignee_id is None and not any(isinstance(e, ConversationOffered) for e in placed):
                    left_waiting += 1
            add_events(session, events)
        await publish_staged(res.sessionmaker, res.bus, events)
        placed_count = sum(not isinstance(e, ConversationQueued | MessageCreated) for e in events)
        assigned_total += placed_count
        if len(waiting) < batch or not ctx.any_room():
            break
        # Conversations nobody here can take (skills, team, hours, manual) stay: look past them.
        offset += left_waiting
    return assigned_total


async def give_back(res: Resources, account_id: uuid.UUID, agent_id: uuid.UUID, *, now: datetime | None = None) -> int:
    """An agent went offline: their open conversations return to routing (if the account wants that)."""
    now = now or utcnow()
    events: list[Event] = []
    async with transaction(res.sessionmaker) as session:
        await routing.lock_account(session, account_id)
        account = await session.get(Account, account_id)
        if not routing.account_routing(account)["give_back_on_offline"]:
            return 0
        if agent_id in await presence.online_agents(res.redis, res.keys, account_id):
            return 0  # back already
        held = (
            await session.scalars(
                select(Conversation).where(
                    Conversation.account_id == account_id,
                    Conversation.assignee_id == agent_id,
                    Conversation.status == "open",
                )
            )
        ).all()
        for conversation in held:
            outcome = lifecycle.give_back(routing.state_of_row(conversation, None), now=now)
            events.extend(await routing.apply_outcome(session, conversation, outcome))
        add_events(session, events)
    await publish_staged(res.sessionmaker, res.bus, events)
    return len(events)
