"""The routing writer's database side: taking an account over (fencing), loading its state, and committing
its decisions in batches.

Fencing (docs/routing.md has the argument): ``routing_writers.epoch`` rises on every takeover, in a statement
that waits for any transaction holding the row; every batch begins by updating that row *where the epoch is
still ours*, which holds the row until commit. So a replica that lost the account (paused, partitioned,
slow) finds zero rows and rolls back — it can write nothing after a newer writer took over, and the newer
writer read the state only after every older write had committed or failed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts import presence
from switchboard_common.domain.accounts.models import Account, Team, TeamMember, User
from switchboard_common.domain.accounts.tenancy import require_tenant, tenant_session
from switchboard_common.domain.conversations import lifecycle as lc
from switchboard_common.domain.conversations import routing
from switchboard_common.domain.conversations.models import (
    AgentRoutingState,
    AgentSkill,
    Conversation,
    RoutingHistory,
    RoutingTimer,
    RoutingWriter,
)
from switchboard_common.domain.events import serialize_event
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.infra.db import affected_rows
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.outbox import OutboxEvent
from switchboard_common.infra.runtime import Resources

from switchboard_router.account import EXCLUDING_ACTIONS, EXCLUSION_WINDOW, PACE_WINDOW, AccountRouting, Batch, Settings
from switchboard_router.candidates import Agent

# A writer stopped in the middle of a batch (SIGSTOP, a long GC pause) must not hold its fencing row for long:
# PostgreSQL ends a transaction left idle this long, so a takeover waits at most this much.
IDLE_IN_TRANSACTION = "5s"


class Fenced(Exception):
    """A newer writer took the account over: this replica's batch was rolled back."""


class AccountGone(Exception):
    """The account was deleted (purged) meanwhile: there is nothing left to write."""


TAKE_OVER = text(
    """
    INSERT INTO routing_writers (account_id, epoch, owner, taken_over_at)
    SELECT a.id, 1, :owner, :now FROM accounts a WHERE a.id = ANY(CAST(:ids AS uuid[]))
    ON CONFLICT (account_id) DO UPDATE
       SET epoch = routing_writers.epoch + 1, owner = excluded.owner, taken_over_at = excluded.taken_over_at
    RETURNING account_id, epoch, applied_partition, applied_offset
    """
)

FENCE = text(
    """
    UPDATE routing_writers
       SET applied_partition = coalesce(:partition, applied_partition),
           applied_offset = coalesce(:offset, applied_offset)
     WHERE account_id = :account AND epoch = :epoch
    """
)

UPDATE_CONVERSATIONS = text(
    """
    UPDATE conversations AS c
       SET status = u.status, assignee_id = u.assignee_id, queued_at = u.queued_at, priority = u.priority,
           team_id = u.team_id, routing_requirements = CAST(u.requirements AS jsonb),
           assignment_version = u.version, snoozed_until = u.snoozed_until,
           routing_explanation = CAST(u.explanation AS jsonb), updated_at = :now
      FROM unnest(CAST(:ids AS uuid[]), CAST(:statuses AS text[]), CAST(:assignees AS uuid[]),
                  CAST(:queued AS timestamptz[]), CAST(:priorities AS int[]), CAST(:teams AS uuid[]),
                  CAST(:requirements AS text[]), CAST(:versions AS int[]), CAST(:snoozed AS timestamptz[]),
                  CAST(:explanations AS text[]))
           AS u(id, status, assignee_id, queued_at, priority, team_id, requirements, version, snoozed_until,
                explanation)
     WHERE c.id = u.id AND c.account_id = :account
    """
)

# Rows of a conversation erased meanwhile (privacy) are skipped rather than failing the batch.
INSERT_HISTORY = text(
    """
    INSERT INTO routing_history (account_id, conversation_id, action, agent_id, details, created_at)
    SELECT :account, h.conversation_id, h.action, h.agent_id, CAST(h.details AS jsonb), h.created_at
      FROM unnest(CAST(:conversations AS uuid[]), CAST(:actions AS text[]), CAST(:agents AS uuid[]),
                  CAST(:details AS text[]), CAST(:ats AS timestamptz[])) WITH ORDINALITY
           AS h(conversation_id, action, agent_id, details, created_at, n)
     WHERE EXISTS (SELECT 1 FROM conversations c WHERE c.id = h.conversation_id AND c.account_id = :account)
     ORDER BY h.n
    """
)

DELETE_TIMERS = text(
    """
    DELETE FROM routing_timers AS t
     USING unnest(CAST(:conversations AS uuid[]), CAST(:kinds AS text[])) AS d(conversation_id, kind)
     WHERE t.account_id = :account AND t.conversation_id = d.conversation_id AND t.kind = d.kind
    """
)

UPSERT_TIMERS = text(
    """
    INSERT INTO routing_timers (account_id, conversation_id, kind, due_at, agent_id, version)
    SELECT :account, t.conversation_id, t.kind, t.due_at, t.agent_id, t.version
      FROM unnest(CAST(:conversations AS uuid[]), CAST(:kinds AS text[]), CAST(:dues AS timestamptz[]),
                  CAST(:agents AS uuid[]), CAST(:versions AS int[]))
           AS t(conversation_id, kind, due_at, agent_id, version)
     WHERE EXISTS (SELECT 1 FROM conversations c WHERE c.id = t.conversation_id AND c.account_id = :account)
    ON CONFLICT ON CONSTRAINT uq_routing_timers_conversation_kind DO UPDATE
       SET due_at = excluded.due_at, agent_id = excluded.agent_id, version = excluded.version
    """
)

UPSERT_LAST_ASSIGNED = text(
    """
    INSERT INTO agent_routing_state (user_id, account_id, last_assigned_at)
    SELECT a.user_id, :account, a.at
      FROM unnest(CAST(:users AS uuid[]), CAST(:ats AS timestamptz[])) AS a(user_id, at)
     WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = a.user_id AND u.account_id = :account)
    ON CONFLICT (user_id) DO UPDATE SET last_assigned_at = excluded.last_assigned_at
    """
)

PREVIOUS_AGENTS = text(
    """
    SELECT DISTINCT ON (c.contact_id) c.contact_id, h.agent_id, h.created_at
      FROM routing_history h JOIN conversations c ON c.id = h.conversation_id
     WHERE h.account_id = :account AND c.contact_id = ANY(CAST(:contacts AS uuid[]))
       AND h.action = 'assigned' AND h.created_at > :since
     ORDER BY c.contact_id, h.id DESC
    """
)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


# --- takeover and loading -------------------------------------------------------------------------


async def take_over(
    session: AsyncSession, account_ids: Sequence[uuid.UUID], owner: str
) -> dict[uuid.UUID, tuple[int, int | None, int | None]]:
    """Raises the accounts' epochs (waiting for any older writer's open batch): from now on only this owner's
    writes commit. Returns each account's (epoch, last applied partition, offset)."""
    if not account_ids:
        return {}
    rows = (await session.execute(TAKE_OVER, {"ids": list(account_ids), "owner": owner, "now": utcnow()})).all()
    await session.commit()
    return {row.account_id: (row.epoch, row.applied_partition, row.applied_offset) for row in rows}


async def load_settings(session: AsyncSession, account_id: uuid.UUID) -> Settings:
    """The account's routing settings, inboxes and teams (the loads below read a session scoped to it)."""
    require_tenant(session, account_id)
    account = await session.get(Account, account_id, populate_existing=True)
    inboxes = (await session.scalars(select(Inbox))).all()
    teams = (await session.execute(select(Team.id, Team.strategy))).all()
    configs = {inbox.id: routing.inbox_routing(inbox) for inbox in inboxes}
    return Settings(
        routing=routing.account_routing(account),
        default_max=account.default_max_conversations if account is not None else 0,
        inboxes=configs,
        inbox_teams={inbox_id: routing.uuid_or_none(config.get("team_id")) for inbox_id, config in configs.items()},
        team_strategies={team_id: strategy for team_id, strategy in teams},
    )


async def load_agents(
    session: AsyncSession,
    account_id: uuid.UUID,
    online: set[uuid.UUID],
    only: Iterable[uuid.UUID] | None = None,
) -> dict[uuid.UUID, Agent]:
    """The account's agents (or ``only`` these) with capacities, skills, teams and last assignments."""
    require_tenant(session, account_id)
    ids = list(only) if only is not None else None

    def only_these(query: Any, user_column: Any) -> Any:
        return query.where(user_column.in_(ids)) if ids is not None else query

    users = (await session.execute(only_these(select(User.id, User.max_conversations, User.deleted_at), User.id))).all()
    skills: dict[uuid.UUID, set[str]] = {}
    for user_id, skill in (
        await session.execute(only_these(select(AgentSkill.user_id, AgentSkill.skill), AgentSkill.user_id))
    ).all():
        skills.setdefault(user_id, set()).add(skill)
    teams: dict[uuid.UUID, set[uuid.UUID]] = {}
    for team_id, user_id in (
        await session.execute(only_these(select(TeamMember.team_id, TeamMember.user_id), TeamMember.user_id))
    ).all():
        teams.setdefault(user_id, set()).add(team_id)
    last = dict(
        (
            await session.execute(
                only_these(
                    select(AgentRoutingState.user_id, AgentRoutingState.last_assigned_at), AgentRoutingState.user_id
                )
            )
        ).all()
    )
    agents = {}
    for user in users:
        last_at = last.get(user.id)
        agents[user.id] = Agent(
            id=user.id,
            max_conversations=user.max_conversations,
            skills=frozenset(skills.get(user.id, ())),
            teams=frozenset(teams.get(user.id, ())),
            online=user.id in online,
            active=user.deleted_at is None,
            last_assigned=last_at.timestamp() if last_at else None,
        )
    return agents


CONVERSATION_COLUMNS = (
    Conversation.id,
    Conversation.account_id,
    Conversation.inbox_id,
    Conversation.contact_id,
    Conversation.channel,
    Conversation.status,
    Conversation.created_at,
    Conversation.assignee_id,
    Conversation.queued_at,
    Conversation.priority,
    Conversation.team_id,
    Conversation.routing_requirements,
    Conversation.assignment_version,
    Conversation.snoozed_until,
    Conversation.last_message_at,
    Conversation.routing_explanation,
)


def _conversation(row: Any, timers: dict[str, lc.Timer]) -> lc.Conversation:
    offer = timers.get("offer")
    return lc.Conversation(
        id=row.id,
        account_id=row.account_id,
        inbox_id=row.inbox_id,
        contact_id=row.contact_id,
        channel=row.channel,
        status=row.status,
        created_at=row.created_at,
        assignee_id=row.assignee_id,
        offer=lc.Offer(offer.agent_id, offer.due_at)
        if offer is not None and offer.agent_id is not None and row.status == "open" and row.assignee_id is None
        else None,
        queued_at=row.queued_at,
        priority=row.priority,
        team_id=row.team_id,
        requirements=row.routing_requirements or {},
        version=row.assignment_version,
        snoozed_until=row.snoozed_until,
        last_message_at=row.last_message_at,
        explanation=row.routing_explanation or {},
    )


async def _timers(
    session: AsyncSession, account_id: uuid.UUID, ids: Iterable[uuid.UUID] | None = None
) -> dict[uuid.UUID, dict[str, lc.Timer]]:
    require_tenant(session, account_id)
    query = select(
        RoutingTimer.conversation_id,
        RoutingTimer.kind,
        RoutingTimer.due_at,
        RoutingTimer.agent_id,
        RoutingTimer.version,
    )
    if ids is not None:
        query = query.where(RoutingTimer.conversation_id.in_(list(ids)))
    timers: dict[uuid.UUID, dict[str, lc.Timer]] = {}
    for conversation_id, kind, due_at, agent_id, version in (await session.execute(query)).all():
        timers.setdefault(conversation_id, {})[kind] = lc.Timer(kind, due_at, agent_id, version)
    return timers


async def load_conversations(
    session: AsyncSession, account_id: uuid.UUID, ids: Iterable[uuid.UUID]
) -> list[tuple[lc.Conversation, dict[str, lc.Timer]]]:
    """Conversations the writer does not hold (new ones, or resolved ones a command names), with timers."""
    require_tenant(session, account_id)
    ids = list(ids)
    if not ids:
        return []
    rows = (await session.execute(select(*CONVERSATION_COLUMNS).where(Conversation.id.in_(ids)))).all()
    timers = await _timers(session, account_id, ids)
    return [(_conversation(row, timers.get(row.id, {})), timers.get(row.id, {})) for row in rows]


async def load_account(
    res: Resources, account_id: uuid.UUID, epoch: int, applied_offset: int | None, now: datetime
) -> AccountRouting:
    """The account's routing state, read after the takeover (so every older writer's batch is settled)."""
    online = await presence.online_agents(res.redis, res.keys, account_id)
    async with tenant_session(res.sessionmaker, account_id) as session:
        settings = await load_settings(session, account_id)
        agents = await load_agents(session, account_id, online)
        timers = await _timers(session, account_id)
        rows = (
            await session.execute(select(*CONVERSATION_COLUMNS).where(Conversation.status.in_(lc.ACTIVE_STATUSES)))
        ).all()
        conversations = {row.id: _conversation(row, timers.get(row.id, {})) for row in rows}
        exclusions: dict[uuid.UUID, dict[uuid.UUID, datetime]] = {}
        for conversation_id, agent_id, at in (
            await session.execute(
                select(RoutingHistory.conversation_id, RoutingHistory.agent_id, RoutingHistory.created_at).where(
                    RoutingHistory.action.in_(EXCLUDING_ACTIONS),
                    RoutingHistory.created_at > now - EXCLUSION_WINDOW,
                )
            )
        ).all():
            if agent_id is not None:
                exclusions.setdefault(conversation_id, {})[agent_id] = at
        recent = (
            await session.scalars(
                select(RoutingHistory.created_at).where(
                    RoutingHistory.action == "assigned",
                    RoutingHistory.created_at > now - PACE_WINDOW,
                )
            )
        ).all()
    return AccountRouting(
        account_id,
        epoch=epoch,
        settings=settings,
        agents=agents,
        conversations=conversations,
        timers={cid: kinds for cid, kinds in timers.items() if cid in conversations},
        exclusions=exclusions,
        recent_assignments=list(recent),
        applied_offset=applied_offset,
    )


async def previous_agents(
    session: AsyncSession, account_id: uuid.UUID, contacts: Iterable[uuid.UUID], since: datetime
) -> dict[uuid.UUID, tuple[uuid.UUID, datetime] | None]:
    """Each contact's last agent (any of its conversations) since ``since``, or None (sticky strategy)."""
    contacts = list(contacts)
    found: dict[uuid.UUID, tuple[uuid.UUID, datetime] | None] = dict.fromkeys(contacts)
    if contacts:
        rows = await session.execute(PREVIOUS_AGENTS, {"account": account_id, "contacts": contacts, "since": since})
        for contact_id, agent_id, at in rows.all():
            found[contact_id] = (agent_id, at)
    return found


def longest_sticky_window(account: AccountRouting) -> timedelta:
    seconds = [float(config["sticky_window_seconds"]) for config in account.settings.inboxes.values()]
    return timedelta(seconds=max([0.0, *seconds]))


# --- committing -----------------------------------------------------------------------------------


async def flush(session: AsyncSession, account: AccountRouting, batch: Batch, partition: int | None) -> None:
    """Commits the batch in one transaction that first proves this writer still owns the account (in a session
    scoped to it; the batch's statements are SQL naming the account themselves)."""
    account_id = account.account_id
    require_tenant(session, account_id)
    await session.execute(text(f"SET LOCAL idle_in_transaction_session_timeout = '{IDLE_IN_TRANSACTION}'"))
    fenced = await session.execute(
        FENCE,
        {"account": account_id, "epoch": account.epoch, "partition": partition, "offset": batch.offset},
    )
    if affected_rows(fenced) != 1:
        exists = await session.scalar(select(RoutingWriter.epoch))
        await session.rollback()
        raise Fenced(str(account_id)) if exists is not None else AccountGone(str(account_id))
    now = utcnow()
    if batch.rows:
        rows = list(batch.rows.values())
        await session.execute(
            UPDATE_CONVERSATIONS,
            {
                "account": account_id,
                "now": now,
                "ids": [c.id for c in rows],
                "statuses": [c.status for c in rows],
                "assignees": [c.assignee_id for c in rows],
                "queued": [c.queued_at for c in rows],
                "priorities": [c.priority for c in rows],
                "teams": [c.team_id for c in rows],
                "requirements": [_json(dict(c.requirements)) for c in rows],
                "versions": [c.version for c in rows],
                "snoozed": [c.snoozed_until for c in rows],
                "explanations": [_json(dict(c.explanation)) for c in rows],
            },
        )
    deleted = [key for key, timer in batch.timers.items() if timer is None]
    if deleted:
        await session.execute(
            DELETE_TIMERS,
            {
                "account": account_id,
                "conversations": [key[0] for key in deleted],
                "kinds": [key[1] for key in deleted],
            },
        )
    scheduled = [(key[0], timer) for key, timer in batch.timers.items() if timer is not None]
    if scheduled:
        await session.execute(
            UPSERT_TIMERS,
            {
                "account": account_id,
                "conversations": [cid for cid, _ in scheduled],
                "kinds": [t.kind for _, t in scheduled],
                "dues": [t.due_at for _, t in scheduled],
                "agents": [t.agent_id for _, t in scheduled],
                "versions": [t.version for _, t in scheduled],
            },
        )
    if batch.history:
        await session.execute(
            INSERT_HISTORY,
            {
                "account": account_id,
                "conversations": [c.id for c, _ in batch.history],
                "actions": [h.action for _, h in batch.history],
                "agents": [h.agent_id for _, h in batch.history],
                "details": [_json(dict(h.details)) for _, h in batch.history],
                "ats": [h.at for _, h in batch.history],
            },
        )
    if batch.last_assigned:
        await session.execute(
            UPSERT_LAST_ASSIGNED,
            {
                "account": account_id,
                "users": list(batch.last_assigned),
                "ats": list(batch.last_assigned.values()),
            },
        )
    if batch.events:
        await session.execute(
            insert(OutboxEvent), [{"event_id": e.event_id, "body": serialize_event(e)} for e in batch.events]
        )
    await session.commit()
