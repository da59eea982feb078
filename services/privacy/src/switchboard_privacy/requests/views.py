"""``/api/v1/privacy/requests``: create, approve, read, list; ``/api/v1/privacy/exports/{id}``: download."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from sqlalchemy import select
from switchboard_common.domain.accounts.auth import AdminAgent, CurrentAgent, ResourcesDep, SessionDep
from switchboard_common.domain.accounts.models import Account
from switchboard_common.domain.accounts.tenancy import CROSS_TENANT_OPTION
from switchboard_common.domain.privacy.models import PrivacyRequest
from switchboard_common.infra.attachments import export_key
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import errors, provides
from switchboard_common.infra.schemas import Strict

from switchboard_privacy.audit import log as audit
from switchboard_privacy.requests import confirmation, exports
from switchboard_privacy.requests.deadlines import due_at
from switchboard_privacy.requests.schemas import (
    RectificationRequestIn,
    RequestCreated,
    RequestIn,
    RequestOut,
    RequestStatus,
    RequestType,
)
from switchboard_privacy.settings import PrivacySettings
from switchboard_privacy.stores.subject import find_contacts

router = APIRouter(prefix="/api/v1/privacy", tags=["privacy"])


def _settings(resources: ResourcesDep) -> PrivacySettings:
    settings = resources.settings
    assert isinstance(settings, PrivacySettings)  # the privacy app's resources are built from its settings
    return settings


def to_out(request: PrivacyRequest, settings: PrivacySettings) -> RequestOut:
    report = dict(request.report)
    if request.type == "access" and request.status == "completed":
        report["download"] = exports.signed_link(settings, request.id)
    return RequestOut(
        id=request.id,
        type=request.type,
        status=request.status,
        created_at=request.created_at,
        due_at=request.due_at,
        verified_at=request.verified_at,
        completed_at=request.completed_at,
        overdue=request.status not in ("completed", "failed") and request.due_at < utcnow(),
        progress=request.progress,
        report=report,
        contacts_found=len(request.contact_ids),
    )


async def _get(session: SessionDep, account_id: uuid.UUID, request_id: uuid.UUID) -> PrivacyRequest:
    request = await session.get(PrivacyRequest, request_id)
    if request is None or request.account_id != account_id:
        raise AppError(404, "not_found", "privacy request not found")
    return request


@router.post(
    "/requests", status_code=202, response_model=RequestCreated, openapi_extra=provides(request_id="$response.body#/id")
)
async def create_request(
    body: RequestIn, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> RequestCreated:
    account = await session.get(Account, agent.account_id)
    assert account is not None
    now = utcnow()
    request = PrivacyRequest(
        id=uuid.uuid4(),
        account_id=agent.account_id,
        type=body.type,
        status="received",
        subject=body.subject.model_dump(mode="json", exclude_none=True),
        changes=body.changes.model_dump(mode="json", exclude_none=True)
        if isinstance(body, RectificationRequestIn)
        else {},
        contact_ids=[],
        requested_by=agent.user_id,
        created_at=now,
        due_at=due_at(now, account.settings or {}, _settings(resources).privacy_default_deadline_days),
        progress={},
        report={},
        attempts=0,
    )
    session.add(request)
    await audit.record(
        session,
        account_id=agent.account_id,
        actor=f"user:{agent.user_id}",
        action=f"{body.type}.received",
        request_id=request.id,
    )
    await session.commit()
    return RequestCreated(id=request.id, status="received", due_at=request.due_at)


@router.post("/requests/{request_id}/approve", response_model=RequestOut)
async def approve_request(
    request_id: uuid.UUID, agent: AdminAgent, session: SessionDep, resources: ResourcesDep
) -> RequestOut:
    request = await _get(session, agent.account_id, request_id)
    if request.status == "received":
        contacts = await find_contacts(session, agent.account_id, request.subject)
        await confirmation.mark_verified(
            session,
            request,
            actor=f"user:{agent.user_id}",
            contact_ids=contacts,
            approved_by=agent.user_id,
            details={},
        )
        await session.commit()
    return to_out(request, _settings(resources))


class ConfirmationIn(Strict):
    # The channel to reach the subject on; None: the one they wrote from last.
    channel: Literal["web", "api", "messenger", "slack"] | None = None


@router.post(
    "/requests/{request_id}/confirmation",
    status_code=202,
    responses=errors(
        conflict="not_pending (only a received request) or no_reachable_channel",
        too_many="too_many_prompts: sent the maximum number of times",
    ),
)
async def send_confirmation(
    request_id: uuid.UUID,
    agent: CurrentAgent,
    session: SessionDep,
    resources: ResourcesDep,
    body: ConfirmationIn | None = None,
) -> dict[str, Any]:
    """Asks the subject to confirm the request through the channel they wrote from (a code and a link)."""
    request = await _get(session, agent.account_id, request_id)
    return await confirmation.send_prompt(
        resources, session, request, actor=f"user:{agent.user_id}", channel=body.channel if body else None
    )


CONFIRM_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Confirm your request</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>
<h1>{title}</h1><p>{text}</p>{form}</body></html>"""


@router.get(
    "/confirm/{token}",
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "A page with a Confirm button"},
        **errors(not_found="confirmation_invalid: the link is invalid, used or expired"),
    },
)
async def confirmation_page(token: str, resources: ResourcesDep) -> HTMLResponse:
    """The link only shows a button: link previews (Slack, Messenger) fetch it, and must not confirm."""
    await confirmation.challenge_for_link(resources, token)
    form = '<form method="post"><button type="submit">Confirm</button></form>'
    text = "Press Confirm if you asked us to act on the personal data we hold about you."
    return HTMLResponse(CONFIRM_PAGE.format(title="Confirm your request", text=text, form=form))


@router.post(
    "/confirm/{token}",
    responses=errors(
        not_found="confirmation_invalid: the link is invalid, used or expired",
        conflict="not_pending: the request no longer awaits confirmation",
    ),
)
async def confirm_by_link(token: str, request: Request, resources: ResourcesDep) -> Response:
    challenge = await confirmation.challenge_for_link(resources, token)
    verified = await confirmation.confirm(resources, challenge, via="link")
    if not verified:
        raise AppError(409, "not_pending", "this request no longer awaits confirmation")
    if "text/html" in request.headers.get("accept", ""):
        text = "Thank you: your request is confirmed and will be handled."
        return HTMLResponse(CONFIRM_PAGE.format(title="Confirmed", text=text, form=""))
    return JSONResponse({"status": "verified"})


@router.post("/requests/{request_id}/retry", response_model=RequestOut)
async def retry_request(
    request_id: uuid.UUID, agent: AdminAgent, session: SessionDep, resources: ResourcesDep
) -> RequestOut:
    """A request that failed after every retry runs its unfinished steps again."""
    request = await _get(session, agent.account_id, request_id)
    if request.status == "failed":
        request.status = "in_progress"
        request.next_attempt_at = None
        request.progress = {k: {**v, "attempts": 0} for k, v in request.progress.items()}
        await audit.record(
            session,
            account_id=agent.account_id,
            actor=f"user:{agent.user_id}",
            action=f"{request.type}.retried",
            request_id=request.id,
        )
        await session.commit()
    return to_out(request, _settings(resources))


@router.get("/requests/{request_id}", response_model=RequestOut)
async def get_request(
    request_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> RequestOut:
    return to_out(await _get(session, agent.account_id, request_id), _settings(resources))


@router.get("/requests", response_model=list[RequestOut], openapi_extra=provides(request_id="$response.body#/0/id"))
async def list_requests(
    agent: CurrentAgent,
    session: SessionDep,
    resources: ResourcesDep,
    status: RequestStatus | None = None,
    type: RequestType | None = None,
    due: Annotated[str | None, Query(pattern="^(overdue|near_due)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[RequestOut]:
    settings = _settings(resources)
    query = select(PrivacyRequest)
    if status:
        query = query.where(PrivacyRequest.status == status)
    if type:
        query = query.where(PrivacyRequest.type == type)
    if due:
        now = utcnow()
        query = query.where(PrivacyRequest.status.notin_(["completed", "failed"]))
        if due == "overdue":
            query = query.where(PrivacyRequest.due_at < now)
        else:
            horizon = now + timedelta(hours=settings.privacy_near_due_hours)
            query = query.where(PrivacyRequest.due_at >= now, PrivacyRequest.due_at < horizon)
    rows = await session.scalars(query.order_by(PrivacyRequest.created_at.desc()).limit(limit))
    return [to_out(r, settings) for r in rows]


@router.get("/requests/{request_id}/certificate", responses=errors(conflict="not_completed: not completed yet"))
async def certificate(request_id: uuid.UUID, agent: CurrentAgent, session: SessionDep) -> dict[str, Any]:
    request = await _get(session, agent.account_id, request_id)
    if request.status != "completed":
        raise AppError(409, "not_completed", "the request is not completed yet")
    return dict(request.report["certificate"])


@router.get(
    "/exports/{request_id}",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The export (a zip file)"},
        **errors(forbidden="link_invalid: the link is invalid or has expired"),
    },
)
async def download_export(
    request_id: uuid.UUID,
    resources: ResourcesDep,
    session: SessionDep,
    expires: int,
    signature: Annotated[str, Query(max_length=128)],
) -> StreamingResponse:
    settings = _settings(resources)
    if not exports.verify(settings, request_id, expires, signature):
        raise AppError(403, "link_invalid", "the link is invalid or has expired")
    # The signed link is the credential and names the request: the lookup that finds the account.
    request = await session.get(PrivacyRequest, request_id, execution_options={CROSS_TENANT_OPTION: True})
    if request is None or request.type != "access" or request.status != "completed":
        raise AppError(404, "not_found", "export not found")
    chunks = resources.attachments.stream(export_key(request.account_id, request.id))
    try:
        first = await anext(chunks)
    except (FileNotFoundError, StopAsyncIteration):
        raise AppError(404, "not_found", "export not found") from None

    async def body() -> AsyncIterator[bytes]:
        yield first
        async for chunk in chunks:
            yield chunk

    return StreamingResponse(
        body(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="export-{request_id}.zip"'},
    )


@router.get("/audit")
async def audit_log(agent: AdminAgent, session: SessionDep) -> list[dict[str, Any]]:
    return [
        {
            "id": e.id,
            "actor": e.actor,
            "action": e.action,
            "request_id": str(e.request_id) if e.request_id else None,
            "details": e.details,
            "created_at": e.created_at.isoformat(),
        }
        for e in await audit.entries(session)
    ]
