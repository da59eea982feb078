"""Teams and membership: ``/api/v1/teams``."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from switchboard_common.domain.accounts.models import Team, TeamMember, User
from switchboard_common.infra.db import atomic
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import errors, provides

from switchboard_gateway.deps import AdminAgent, CurrentAgent, RoutingRefresh, SessionDep
from switchboard_gateway.teams import service
from switchboard_gateway.teams.schemas import TeamCreate, TeamOut, TeamUpdate

router = APIRouter(prefix="/api/v1/teams", tags=["teams"])


async def _out(session: SessionDep, team: Team) -> TeamOut:
    return TeamOut(
        id=team.id, name=team.name, strategy=team.strategy, members=await service.members_of(session, team.id)
    )


async def _check_agents(session: SessionDep, agent_ids: list[uuid.UUID]) -> None:
    if not agent_ids:
        return
    found = set((await session.scalars(select(User.id).where(User.id.in_(agent_ids), User.deleted_at.is_(None)))).all())
    if found != set(agent_ids):
        raise AppError(404, "not_found", "agent not found")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TeamOut,
    responses=errors(not_found="a member is not an agent of this account", conflict="name_taken"),
    openapi_extra=provides(team_id="$response.body#/id"),
)
async def create_team(body: TeamCreate, admin: AdminAgent, session: SessionDep, refresh: RoutingRefresh) -> TeamOut:
    refresh(admin.account_id)
    async with atomic(session):
        await _check_agents(session, body.members)
        team = Team(id=uuid.uuid4(), account_id=admin.account_id, name=body.name, strategy=body.strategy)
        session.add(team)
        try:
            await session.flush()
        except IntegrityError:
            raise AppError(409, "name_taken", "a team with this name exists") from None
        for agent_id in set(body.members):
            session.add(TeamMember(team_id=team.id, user_id=agent_id, account_id=admin.account_id))
        await session.flush()
        return await _out(session, team)


@router.get("", response_model=list[TeamOut], openapi_extra=provides(team_id="$response.body#/0/id"))
async def list_teams(agent: CurrentAgent, session: SessionDep) -> list[TeamOut]:
    teams = (await session.scalars(select(Team).order_by(Team.name))).all()
    return [await _out(session, t) for t in teams]


@router.get("/{team_id}", response_model=TeamOut)
async def get_team(team_id: uuid.UUID, agent: CurrentAgent, session: SessionDep) -> TeamOut:
    return await _out(session, await service.get_team(session, team_id))


@router.patch("/{team_id}", response_model=TeamOut, responses=errors(conflict="name_taken"))
async def update_team(
    team_id: uuid.UUID, body: TeamUpdate, admin: AdminAgent, session: SessionDep, refresh: RoutingRefresh
) -> TeamOut:
    refresh(admin.account_id)
    async with atomic(session):
        team = await service.get_team(session, team_id)
        for field, value in body.model_dump(exclude_unset=True).items():
            setattr(team, field, value)
        try:
            await session.flush()
        except IntegrityError:
            raise AppError(409, "name_taken", "a team with this name exists") from None
        return await _out(session, team)


@router.delete("/{team_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_team(team_id: uuid.UUID, admin: AdminAgent, session: SessionDep, refresh: RoutingRefresh) -> Response:
    refresh(admin.account_id)
    async with atomic(session):
        await session.delete(await service.get_team(session, team_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/{team_id}/members/{agent_id}", response_model=TeamOut)
async def add_member(
    team_id: uuid.UUID, agent_id: uuid.UUID, admin: AdminAgent, session: SessionDep, refresh: RoutingRefresh
) -> TeamOut:
    refresh(admin.account_id)
    async with atomic(session):
        team = await service.get_team(session, team_id)
        await _check_agents(session, [agent_id])
        await session.execute(
            insert(TeamMember)
            .values(team_id=team.id, user_id=agent_id, account_id=admin.account_id)
            .on_conflict_do_nothing()
        )
        return await _out(session, team)


@router.delete("/{team_id}/members/{agent_id}", response_model=TeamOut)
async def remove_member(
    team_id: uuid.UUID, agent_id: uuid.UUID, admin: AdminAgent, session: SessionDep, refresh: RoutingRefresh
) -> TeamOut:
    refresh(admin.account_id)
    async with atomic(session):
        team = await service.get_team(session, team_id)
        await session.execute(delete(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == agent_id))
        return await _out(session, team)
