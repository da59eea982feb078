"""Team membership and agent skills (also used by ``PATCH /api/v1/agents/{id}``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts.models import Team, TeamMember, User
from switchboard_common.domain.conversations.models import AgentSkill
from switchboard_common.infra.errors import AppError


async def get_team(session: AsyncSession, team_id: uuid.UUID) -> Team:
    team = await session.scalar(select(Team).where(Team.id == team_id))
    if team is None:
        raise AppError(404, "not_found", "team not found")
    return team


async def members_of(session: AsyncSession, team_id: uuid.UUID) -> list[uuid.UUID]:
    return list((await session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team_id))).all())


async def skills_of(session: AsyncSession, agent_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    result: dict[uuid.UUID, list[str]] = {}
    rows = await session.execute(
        select(AgentSkill.user_id, AgentSkill.skill).where(AgentSkill.user_id.in_(agent_ids)).order_by(AgentSkill.skill)
    )
    for user_id, skill in rows.all():
        result.setdefault(user_id, []).append(skill)
    return result


async def teams_of(session: AsyncSession, agent_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    result: dict[uuid.UUID, list[uuid.UUID]] = {}
    rows = await session.execute(
        select(TeamMember.user_id, TeamMember.team_id)
        .where(TeamMember.user_id.in_(agent_ids))
        .order_by(TeamMember.team_id)
    )
    for user_id, team_id in rows.all():
        result.setdefault(user_id, []).append(team_id)
    return result


async def set_skills(session: AsyncSession, agent: User, skills: Sequence[str]) -> None:
    await session.execute(delete(AgentSkill).where(AgentSkill.user_id == agent.id))
    for skill in sorted(set(skills)):
        session.add(AgentSkill(user_id=agent.id, skill=skill, account_id=agent.account_id))
    await session.flush()


async def set_teams(session: AsyncSession, agent: User, team_ids: Sequence[uuid.UUID]) -> None:
    wanted = set(team_ids)
    if wanted:
        found = set((await session.scalars(select(Team.id).where(Team.id.in_(wanted)))).all())
        if found != wanted:
            raise AppError(404, "not_found", "team not found")
    await session.execute(delete(TeamMember).where(TeamMember.user_id == agent.id))
    for team_id in sorted(wanted):
        session.add(TeamMember(team_id=team_id, user_id=agent.id, account_id=agent.account_id))
    await session.flush()
