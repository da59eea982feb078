from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from sqlalchemy import select
from switchboard_common.db import atomic
from switchboard_common.db.models import Inbox

from switchboard_gateway.deps import AdminAgent, CurrentAgent, ResourcesDep, SessionDep
from switchboard_gateway.inboxes import schemas, service

router = APIRouter(prefix="/api/v1/inboxes", tags=["inboxes"])


def inbox_out(inbox: Inbox, secret: str | None = None) -> schemas.InboxOut:
    return schemas.InboxOut(
        id=inbox.id,
        name=inbox.name,
        channel=inbox.channel,  # type: ignore[arg-type]
        widget_token=inbox.widget_token,
        settings=inbox.settings,
        created_at=inbox.created_at,
        secret=secret,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.InboxOut, response_model_exclude_none=True)
async def create_inbox(
    body: schemas.InboxCreate, admin: AdminAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.InboxOut:
    async with atomic(session):
        inbox, secret = await service.create_inbox(
            session,
            resources.keyring,
            account_id=admin.account_id,
            name=body.name,
            channel=body.channel,
            settings=body.settings,
        )
    return inbox_out(inbox, secret)


@router.get("", response_model=list[schemas.InboxOut], response_model_exclude_none=True)
async def list_inboxes(agent: CurrentAgent, session: SessionDep) -> list[schemas.InboxOut]:
    rows = (
        await session.scalars(select(Inbox).where(Inbox.account_id == agent.account_id).order_by(Inbox.created_at))
    ).all()
    return [inbox_out(i) for i in rows]


@router.get("/{inbox_id}", response_model=schemas.InboxOut, response_model_exclude_none=True)
async def get_inbox(inbox_id: uuid.UUID, agent: CurrentAgent, session: SessionDep) -> schemas.InboxOut:
    return inbox_out(await service.get_inbox(session, agent.account_id, inbox_id))
