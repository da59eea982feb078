"""Account webhooks: subscribe a URL to events; secrets shown once; delivery log."""

from __future__ import annotations

import secrets
import uuid

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import select
from switchboard_common.domain.subscriptions.models import WebhookDelivery, WebhookSubscription
from switchboard_common.domain.subscriptions.revisions import bump_revision
from switchboard_common.domain.subscriptions.secrets import subscription_secret_aad
from switchboard_common.infra.db import atomic
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import errors, provides
from switchboard_common.infra.outbound_http import UnsafeUrl, resolve_checked

from switchboard_gateway.deps import AdminAgent, ResourcesDep, SessionDep
from switchboard_gateway.subscriptions.schemas import (
    DeliveryOut,
    SubscriptionCreate,
    SubscriptionOut,
    SubscriptionUpdate,
)

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


def _out(sub: WebhookSubscription, secret: str | None = None) -> SubscriptionOut:
    return SubscriptionOut(
        id=sub.id,
        url=sub.url,
        events=list(sub.events),
        enabled=sub.enabled,
        disabled_reason=sub.disabled_reason,
        consecutive_failures=sub.consecutive_failures,
        created_at=sub.created_at,
        secret=secret,
    )


# What a URL's schema cannot say: whether this deployment may call its host (it depends on DNS and on
# OUTBOUND_ALLOW_PRIVATE). A well-formed URL it may not call is refused like a forbidden action.
URL_NOT_ALLOWED = "url_not_allowed: the host is private, reserved or does not resolve (or another refusal of the API)"


async def check_url(url: str, allow_private: bool) -> None:
    try:
        await resolve_checked(url, allow_private=allow_private)
    except UnsafeUrl as exc:
        raise AppError(403, "url_not_allowed", str(exc)) from None


async def _get(session: SessionDep, webhook_id: uuid.UUID) -> WebhookSubscription:
    sub = await session.scalar(select(WebhookSubscription).where(WebhookSubscription.id == webhook_id))
    if sub is None:
        raise AppError(404, "not_found", "webhook not found")
    return sub


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SubscriptionOut,
    response_model_exclude_none=True,
    responses=errors(forbidden=URL_NOT_ALLOWED),
    openapi_extra=provides(webhook_id="$response.body#/id"),
)
async def create_webhook(
    body: SubscriptionCreate, admin: AdminAgent, session: SessionDep, resources: ResourcesDep
) -> SubscriptionOut:
    await check_url(body.url, resources.settings.outbound_allow_private)
    secret = secrets.token_urlsafe(32)
    sub_id = uuid.uuid4()
    sub = WebhookSubscription(
        id=sub_id,
        account_id=admin.account_id,
        url=body.url,
        events=sorted(set(body.events)),
        enabled=True,
        consecutive_failures=0,
        secret_encrypted=resources.keyring.encrypt(secret.encode(), subscription_secret_aad(sub_id)),
    )
    async with atomic(session):
        session.add(sub)
    await bump_revision(resources.redis, resources.keys, admin.account_id)
    return _out(sub, secret)


@router.get(
    "",
    response_model=list[SubscriptionOut],
    response_model_exclude_none=True,
    openapi_extra=provides(webhook_id="$response.body#/0/id"),
)
async def list_webhooks(admin: AdminAgent, session: SessionDep) -> list[SubscriptionOut]:
    rows = (await session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.created_at))).all()
    return [_out(s) for s in rows]


@router.get("/{webhook_id}", response_model=SubscriptionOut, response_model_exclude_none=True)
async def get_webhook(webhook_id: uuid.UUID, admin: AdminAgent, session: SessionDep) -> SubscriptionOut:
    return _out(await _get(session, webhook_id))


@router.patch(
    "/{webhook_id}",
    response_model=SubscriptionOut,
    response_model_exclude_none=True,
    responses=errors(forbidden=URL_NOT_ALLOWED),
)
async def update_webhook(
    webhook_id: uuid.UUID, body: SubscriptionUpdate, admin: AdminAgent, session: SessionDep, resources: ResourcesDep
) -> SubscriptionOut:
    changes = body.model_dump(exclude_unset=True)
    if "url" in changes:
        await check_url(changes["url"], resources.settings.outbound_allow_private)
    async with atomic(session):
        sub = await _get(session, webhook_id)
        if "url" in changes:
            sub.url = changes["url"]
        if "events" in changes:
            sub.events = sorted(set(changes["events"]))
        if "enabled" in changes:
            sub.enabled = changes["enabled"]
            if sub.enabled:
                sub.disabled_reason, sub.consecutive_failures = None, 0
    await bump_revision(resources.redis, resources.keys, admin.account_id)
    return _out(sub)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(
    webhook_id: uuid.UUID, admin: AdminAgent, session: SessionDep, resources: ResourcesDep
) -> Response:
    async with atomic(session):
        await session.delete(await _get(session, webhook_id))
    await bump_revision(resources.redis, resources.keys, admin.account_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryOut])
async def list_deliveries(
    webhook_id: uuid.UUID, admin: AdminAgent, session: SessionDep, limit: int = Query(default=100, ge=1, le=1000)
) -> list[DeliveryOut]:
    await _get(session, webhook_id)
    rows = (
        await session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.target_id == webhook_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    ).all()
    return [DeliveryOut.model_validate(d) for d in rows]
