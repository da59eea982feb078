"""Who may see which conversation: the one rule every reader applies (lists, reads, messages, search, sockets,
reports, exports).

An account chooses what its agents see (``settings.visibility.agents_see``, ``PUT /api/v1/account/visibility``):

* ``all`` (the default): every conversation of the account;
* ``team``: conversations routed to one of their teams (the conversation's team, else its inbox's routing
  team), those assigned to a teammate, and their own;
* ``assigned``: those assigned to them, offered to them, and the queue they may claim (manual routing, in a
  team of theirs when the conversation is routed to a team).

Owners and admins always see everything. What an agent may not see does not exist for them: a 404, never a 403.

Use :func:`visible` in a query (``select(Conversation).where(visible(viewer))``), :func:`seers` for who gets a
live frame about a conversation, and :func:`load_viewer` to build the viewer from a principal.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal, cast

from sqlalchemy import ColumnElement, String, and_, func, or_, select, true
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from switchboard_common.domain.accounts.models import Account, Team, TeamMember, User
from switchboard_common.domain.accounts.tenancy import require_tenant
from switchboard_common.domain.conversations.models import Conversation, RoutingTimer
from switchboard_common.domain.inboxes.models import Inbox

AgentsSee = Literal["all", "team", "assigned"]
MODES: tuple[AgentsSee, ...] = ("all", "team", "assigned")
SEE_ALL_ROLES = frozenset({"owner", "admin"})


def agents_see(account: Account | None) -> AgentsSee:
    """The account's visibility setting (``all`` when unset)."""
    stored = ((account.settings or {}) if account is not None else {}).get("visibility") or {}
    mode = stored.get("agents_see")
    return cast(AgentsSee, mode) if mode in MODES else "all"


@dataclass(frozen=True)
class Viewer:
    """Someone reading conversations: an agent (or an API token acting for the account) under a mode."""

    user_id: uuid.UUID
    account_id: uuid.UUID
    role: str
    mode: AgentsSee = "all"

    @property
    def sees_all(self) -> bool:
        return self.role in SEE_ALL_ROLES or self.mode == "all"


async def load_viewer(session: AsyncSession, principal: Any) -> Viewer:
    """The viewer for an authenticated principal (anything with ``user_id``, ``account_id`` and ``role``)."""
    account = await session.get(Account, principal.account_id)
    return Viewer(principal.user_id, principal.account_id, principal.role, agents_see(account))


def _routed_team(conversation: Any) -> ColumnElement[Any]:
    """The team a conversation is routed to: its own, else its inbox's routing team (as text, for comparing)."""
    inbox_team = (
        select(Inbox.routing["team_id"].astext)
        .where(Inbox.id == conversation.inbox_id)
        .correlate_except(Inbox)
        .scalar_subquery()
    )
    return func.coalesce(sql_cast(conversation.team_id, String), func.nullif(inbox_team, ""))


def _teams_of(user_id: Any) -> Any:
    return (
        select(sql_cast(TeamMember.team_id, String)).where(TeamMember.user_id == user_id).correlate_except(TeamMember)
    )


def _claimable(user_id: Any, conversation: Any) -> ColumnElement[bool]:
    """Waiting in the queue of a manually routed inbox (or team), in a team of theirs when routed to one."""
    inbox_strategy = (
        select(Inbox.routing["strategy"].astext)
        .where(Inbox.id == conversation.inbox_id)
        .correlate_except(Inbox)
        .scalar_subquery()
    )
    team_strategy = (
        select(Team.strategy)
        .where(sql_cast(Team.id, String) == _routed_team(conversation))
        .correlate_except(Team)
        .scalar_subquery()
    )
    routed = _routed_team(conversation)
    return and_(
        conversation.status == "open",
        conversation.assignee_id.is_(None),
        func.coalesce(team_strategy, inbox_strategy) == "manual",
        or_(routed.is_(None), routed.in_(_teams_of(user_id))),
    )


def _offered_to(user_id: Any, conversation: Any) -> ColumnElement[bool]:
    return (
        select(RoutingTimer.id)
        .where(
            RoutingTimer.conversation_id == conversation.id,
            RoutingTimer.kind == "offer",
            RoutingTimer.agent_id == user_id,
        )
        .correlate_except(RoutingTimer)
        .exists()
    )


def rule(user_id: Any, mode: AgentsSee, conversation: Any = Conversation) -> ColumnElement[bool]:
    """The restriction of an agent (not an owner or admin) under ``mode``; ``user_id`` may be a column."""
    if mode == "all":
        return true()
    own = or_(
        conversation.assignee_id == user_id,
        _offered_to(user_id, conversation),
        _claimable(user_id, conversation),
    )
    if mode == "assigned":
        return own
    mine = aliased(TeamMember)
    my_teams = select(mine.team_id).where(mine.user_id == user_id).correlate_except(mine)
    teammates = select(TeamMember.user_id).where(TeamMember.team_id.in_(my_teams)).correlate_except(TeamMember)
    return or_(own, _routed_team(conversation).in_(_teams_of(user_id)), conversation.assignee_id.in_(teammates))


def visible(viewer: Viewer, conversation: Any = Conversation) -> ColumnElement[bool]:
    """The conversations ``viewer`` may see, as a WHERE clause for a session scoped to the viewer's account
    (the session adds the account condition; this adds the agent's visibility rule)."""
    if viewer.sees_all:
        return true()
    return rule(viewer.user_id, viewer.mode, conversation)


async def seers(session: AsyncSession, account_id: uuid.UUID, conversation_id: uuid.UUID) -> list[uuid.UUID]:
    """The account's agents who may see the conversation now (who gets its live frames); in a session scoped to
    the account."""
    require_tenant(session, account_id)
    account = await session.get(Account, account_id)
    mode = agents_see(account)
    query = select(User.id).where(User.deleted_at.is_(None))
    if mode != "all":
        restricted = (
            select(Conversation.id)
            .where(Conversation.id == conversation_id, rule(User.id, mode))
            .correlate_except(Conversation)
            .exists()
        )
        query = query.where(or_(User.role.in_(SEE_ALL_ROLES), restricted))
    return list((await session.scalars(query)).all())


async def seers_of_each(
    session: AsyncSession, account_id: uuid.UUID, conversation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """:func:`seers` of several conversations of the account in one query (a poll of events' frames)."""
    require_tenant(session, account_id)
    ids = list(dict.fromkeys(conversation_ids))
    if not ids:
        return {}
    mode = agents_see(await session.get(Account, account_id))
    if mode == "all":
        everyone = list((await session.scalars(select(User.id).where(User.deleted_at.is_(None)))).all())
        return {conversation_id: everyone for conversation_id in ids}
    pairs = await session.execute(
        select(Conversation.id, User.id)
        .join(User, true())
        .where(
            Conversation.id.in_(ids),
            User.deleted_at.is_(None),
            or_(User.role.in_(SEE_ALL_ROLES), rule(User.id, mode)),
        )
    )
    found: dict[uuid.UUID, list[uuid.UUID]] = {conversation_id: [] for conversation_id in ids}
    for conversation_id, user_id in pairs.all():
        found[conversation_id].append(user_id)
    return found
