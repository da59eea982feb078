from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from sqlalchemy import select
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.infra.db import atomic
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import errors, provides

from switchboard_gateway.deps import AdminAgent, CurrentAgent, ResourcesDep, SessionDep
from switchboard_gateway.inboxes import schemas, service
from switchboard_gateway.subscriptions.views import URL_NOT_ALLOWED, check_url

router = APIRouter(prefix="/api/v1/inboxes", tags=["inboxes"])


def inbox_out(inbox: Inbox, secret: str | None = None) -> schemas.InboxOut:
    return schemas.InboxOut(
        id=inbox.id,
        name=inbox.name,
        channel=inbox.channel,
        widget_token=inbox.widget_token,
        settings=inbox.settings,
        created_at=inbox.created_at,
        secret=secret,
    )


MIRROR_CONFLICT = "invalid_mirror_inbox: slack_mirror_inbox_id is not a Slack inbox of this account"
CHANNEL_FORBIDDEN = (
    "channel_not_owned or invalid_channel_token: the platform says the token is not the page's or workspace's; "
    f"platform_unavailable: it did not answer (nothing is connected without one); {URL_NOT_ALLOWED}"
)
CHANNEL_CONFLICT = f"channel_already_connected: the page or Slack channel is another inbox's; {MIRROR_CONFLICT}"


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.InboxOut,
    response_model_exclude_none=True,
    responses=errors(forbidden=CHANNEL_FORBIDDEN, conflict=CHANNEL_CONFLICT),
    openapi_extra=provides(inbox_id="$response.body#/id"),
)
async def create_inbox(
    body: schemas.InboxCreate, admin: AdminAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.InboxOut:
    settings = body.settings.model_dump(mode="json")
    await _check_callback(settings, resources)
    public, secret_values = service.split_settings(body.channel, settings)
    await service.check_channel(
        session,
        resources.settings,
        account_id=admin.account_id,
        inbox=None,
        channel=body.channel,
        public=public,
        secret_values=secret_values,
        keyring=resources.keyring,
    )
    async with atomic(session):
        inbox, secret = await service.create_inbox(
            session,
            resources.keyring,
            account_id=admin.account_id,
            name=body.name,
            channel=body.channel,
            settings=settings,
            directory=resources.directory,
        )
    return inbox_out(inbox, secret)


@router.get(
    "",
    response_model=list[schemas.InboxOut],
    response_model_exclude_none=True,
    openapi_extra=provides(inbox_id="$response.body#/0/id"),
)
async def list_inboxes(agent: CurrentAgent, session: SessionDep) -> list[schemas.InboxOut]:
    rows = (await session.scalars(select(Inbox).order_by(Inbox.created_at))).all()
    return [inbox_out(i) for i in rows]


@router.get("/{inbox_id}", response_model=schemas.InboxOut, response_model_exclude_none=True)
async def get_inbox(inbox_id: uuid.UUID, agent: CurrentAgent, session: SessionDep) -> schemas.InboxOut:
    return inbox_out(await service.get_inbox(session, inbox_id))


async def _check_callback(settings: dict[str, object] | None, resources: ResourcesDep) -> None:
    url = (settings or {}).get("callback_url")
    if isinstance(url, str) and url:
        await check_url(url, resources.settings.outbound_allow_private)


@router.patch(
    "/{inbox_id}",
    response_model=schemas.InboxOut,
    response_model_exclude_none=True,
    responses=errors(
        forbidden=CHANNEL_FORBIDDEN,
        conflict=f"settings_not_for_channel: settings of another channel; {CHANNEL_CONFLICT}",
    ),
)
async def update_inbox(
    inbox_id: uuid.UUID, body: schemas.InboxUpdate, admin: AdminAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.InboxOut:
    changes = body.model_dump(mode="json", exclude_unset=True)
    # Only the settings sent: the nested model's unset fields are left out too.
    settings = body.settings.model_dump(mode="json", exclude_unset=True) if "settings" in changes else None
    if settings is not None:
        current = await service.get_inbox(session, inbox_id)
        if current.channel == "api":  # elsewhere a callback_url is another channel's setting (409 below)
            await _check_callback(settings, resources)
        public, secret_values = service.merged_settings(resources.keyring, current, settings)
        await service.check_channel(
            session,
            resources.settings,
            account_id=admin.account_id,
            inbox=current,
            channel=current.channel,
            public=public,
            secret_values=secret_values,
            keyring=resources.keyring,
        )
        await session.rollback()
    async with atomic(session):
        inbox = await service.get_inbox(session, inbox_id)
        await service.update_inbox(
            session,
            resources.keyring,
            inbox,
            name=changes.get("name"),
            settings=settings,
            directory=resources.directory,
        )
    return inbox_out(inbox)


@router.post(
    "/{inbox_id}/rotate-secret",
    response_model=schemas.SecretOut,
    responses=errors(conflict="not_an_api_inbox: only API inboxes have a signing secret"),
)
async def rotate_secret(
    inbox_id: uuid.UUID, admin: AdminAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.SecretOut:
    """API inboxes: a new signing secret, shown once; the previous one verifies for 24 more hours."""
    async with atomic(session):
        inbox = await service.get_inbox(session, inbox_id)
        if inbox.channel != "api":
            raise AppError(409, "not_an_api_inbox", "only API inboxes have a signing secret")
        secret, until = service.rotate_signing_secret(resources.keyring, inbox, utcnow())
    return schemas.SecretOut(secret=secret, previous_valid_until=until)
