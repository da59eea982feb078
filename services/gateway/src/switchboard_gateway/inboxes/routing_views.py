"""Routing settings: per inbox (``/api/v1/inboxes/{id}/routing``) and per account (``/api/v1/routing/settings``)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from switchboard_common.domain.accounts.models import Account, Team
from switchboard_common.domain.conversations import routing
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.domain.labels.queries import label_ids
from switchboard_common.infra.db import atomic
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import errors

from switchboard_gateway.deps import AdminAgent, CurrentAgent, RoutingRefresh, SessionDep
from switchboard_gateway.inboxes.schemas import AccountRouting, AccountRoutingOut, InboxRouting, InboxRoutingOut

router = APIRouter(prefix="/api/v1", tags=["routing"])


async def _inbox(session: SessionDep, inbox_id: uuid.UUID) -> Inbox:
    inbox = await session.scalar(select(Inbox).where(Inbox.id == inbox_id))
    if inbox is None:
        raise AppError(404, "not_found", "inbox not found")
    return inbox


def _inbox_out(inbox: Inbox) -> dict[str, Any]:
    return routing.inbox_routing(inbox)


@router.get("/inboxes/{inbox_id}/routing", response_model=InboxRoutingOut)
async def get_inbox_routing(inbox_id: uuid.UUID, agent: CurrentAgent, session: SessionDep) -> dict[str, Any]:
    return _inbox_out(await _inbox(session, inbox_id))


@router.put(
    "/inboxes/{inbox_id}/routing",
    response_model=InboxRoutingOut,
    responses=errors(
        not_found="no such inbox, or team_id is not a team of this account",
        conflict="unknown_label: create these labels first (error.details.labels)",
    ),
)
async def put_inbox_routing(
    inbox_id: uuid.UUID, body: InboxRouting, admin: AdminAgent, session: SessionDep, refresh: RoutingRefresh
) -> dict[str, Any]:
    refresh(admin.account_id)
    async with atomic(session):
        inbox = await _inbox(session, inbox_id)
        changes = body.model_dump(mode="json", exclude_unset=True)
        if changes.get("team_id") is not None:
            team = await session.scalar(select(Team.id).where(Team.id == body.team_id))
            if team is None:
                raise AppError(404, "not_found", "team not found")
        if changes.get("labels"):
            known = await label_ids(session, admin.account_id, changes["labels"])
            unknown = sorted(set(changes["labels"]) - set(known))
            if unknown:
                raise AppError(409, "unknown_label", "create these labels first", details={"labels": unknown})
            changes["labels"] = sorted(set(changes["labels"]))
        inbox.routing = {**(inbox.routing or {}), **changes}
        return _inbox_out(inbox)


def _account_out(account: Account) -> dict[str, Any]:
    return {**routing.account_routing(account), "default_max_conversations": account.default_max_conversations}


@router.get("/routing/settings", response_model=AccountRoutingOut)
async def get_account_routing(agent: CurrentAgent, session: SessionDep) -> dict[str, Any]:
    account = await session.get(Account, agent.account_id)
    if account is None:
        raise AppError(404, "not_found", "account not found")
    return _account_out(account)


@router.put("/routing/settings", response_model=AccountRoutingOut)
async def put_account_routing(
    body: AccountRouting, admin: AdminAgent, session: SessionDep, refresh: RoutingRefresh
) -> dict[str, Any]:
    refresh(admin.account_id)
    async with atomic(session):
        account = await session.get(Account, admin.account_id, with_for_update=True)
        if account is None:
            raise AppError(404, "not_found", "account not found")
        changes = body.model_dump(mode="json", exclude_unset=True)
        if "default_max_conversations" in changes:
            value = changes.pop("default_max_conversations")
            if value is not None:
                account.default_max_conversations = value
        settings = dict(account.settings or {})
        settings["routing"] = {**(settings.get("routing") or {}), **changes}
        account.settings = settings
        return _account_out(account)
