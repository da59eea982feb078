"""``GET/PUT /api/v1/account/visibility``: which conversations the account's agents see
(``switchboard_common.domain.conversations.visibility``). Owners and admins always see all."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict
from switchboard_common.domain.accounts.models import Account
from switchboard_common.domain.conversations.visibility import AgentsSee, agents_see
from switchboard_common.infra.db import atomic
from switchboard_common.infra.errors import AppError

from switchboard_gateway.deps import AdminAgent, CurrentAgent, SessionDep, SettingsDep
from switchboard_gateway.security import audit

router = APIRouter(prefix="/api/v1/account", tags=["account"])


class VisibilityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agents_see: AgentsSee


class VisibilityOut(BaseModel):
    agents_see: AgentsSee


@router.get("/visibility", response_model=VisibilityOut)
async def get_visibility(agent: CurrentAgent, session: SessionDep) -> VisibilityOut:
    return VisibilityOut(agents_see=agents_see(await session.get(Account, agent.account_id)))


@router.put("/visibility", response_model=VisibilityOut)
async def put_visibility(
    body: VisibilityIn, admin: AdminAgent, session: SessionDep, request: Request, settings: SettingsDep
) -> VisibilityOut:
    """``all``: every conversation; ``team``: their teams' and their own; ``assigned``: their own, offers to
    them and the queue they may claim (manual routing). Applies at once to every read and live frame."""
    async with atomic(session):
        account = await session.get(Account, admin.account_id, with_for_update=True)
        if account is None:
            raise AppError(404, "not_found", "account not found")
        previous = agents_see(account)
        account.settings = {**(account.settings or {}), "visibility": {"agents_see": body.agents_see}}
        if previous != body.agents_see:
            await audit.record(
                session,
                audit.by(
                    "visibility_changed",
                    admin,
                    request,
                    settings.trusted_proxies,
                    previous=previous,
                    agents_see=body.agents_see,
                ),
            )
    return VisibilityOut(agents_see=body.agents_see)
