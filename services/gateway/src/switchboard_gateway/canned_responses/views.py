"""Canned responses: saved replies agents insert by short code (``/`` in the console's reply box).

Any agent of the account reads and creates them; the author or an admin changes or deletes one."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from switchboard_common.domain.canned_responses.models import CannedResponse
from switchboard_common.domain.contacts.models import Contact
from switchboard_common.infra.db import atomic
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import errors, provides
from switchboard_common.infra.schemas import NUL_FREE

from switchboard_gateway.canned_responses.schemas import CannedResponseCreate, CannedResponseOut, CannedResponseUpdate
from switchboard_gateway.canned_responses.service import render
from switchboard_gateway.conversations.service import get_conversation
from switchboard_gateway.deps import AgentPrincipal, CurrentAgent, SessionDep, ViewerDep

router = APIRouter(prefix="/api/v1/canned-responses", tags=["canned responses"])
MAX_PER_ACCOUNT = 1000


def _out(row: CannedResponse, rendered: str | None = None) -> CannedResponseOut:
    return CannedResponseOut(
        id=row.id,
        short_code=row.short_code,
        content=row.content,
        created_by=row.created_by,
        created_at=row.created_at,
        rendered=rendered,
    )


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CannedResponseOut,
    responses=errors(conflict="short_code_taken, or too_many_canned_responses"),
    openapi_extra=provides(response_id="$response.body#/id"),
)
async def create_canned_response(
    body: CannedResponseCreate, agent: CurrentAgent, session: SessionDep
) -> CannedResponseOut:
    async with atomic(session):
        count = await session.scalar(select(func.count()).select_from(CannedResponse))
        if (count or 0) >= MAX_PER_ACCOUNT:
            raise AppError(409, "too_many_canned_responses", f"an account has at most {MAX_PER_ACCOUNT}")
        row = CannedResponse(
            id=uuid.uuid4(),
            account_id=agent.account_id,
            short_code=body.short_code,
            content=body.content,
            created_by=agent.user_id,
            created_at=utcnow(),
        )
        session.add(row)
        try:
            await session.flush()
        except IntegrityError:
            raise AppError(409, "short_code_taken", "a canned response with this short code exists") from None
    return _out(row)


@router.get(
    "",
    response_model=list[CannedResponseOut],
    responses=errors(not_found="conversation_id names no conversation this agent may see"),
    openapi_extra=provides(response_id="$response.body#/0/id"),
)
async def list_canned_responses(
    agent: CurrentAgent,
    session: SessionDep,
    viewer: ViewerDep,
    q: str | None = Query(
        default=None, max_length=100, pattern=NUL_FREE, description="short code prefix, or words of the content"
    ),
    conversation_id: uuid.UUID | None = Query(
        default=None, description="fill in {{contact.name}} and {{agent.name}} for this conversation (`rendered`)"
    ),
    limit: int = Query(default=20, ge=1, le=200),
) -> list[CannedResponseOut]:
    """Short codes starting with ``q`` first, then those whose content contains it."""
    query = select(CannedResponse)
    if q and q.strip():
        needle = _escape_like(q.strip().lstrip("/").lower())
        prefix = CannedResponse.short_code.like(f"{needle}%", escape="\\")
        query = query.where(or_(prefix, CannedResponse.content.ilike(f"%{needle}%", escape="\\"))).order_by(
            prefix.desc(), CannedResponse.short_code
        )
    else:
        query = query.order_by(CannedResponse.short_code)
    rows = (await session.scalars(query.limit(limit))).all()
    if conversation_id is None:
        return [_out(r) for r in rows]
    conversation = await get_conversation(session, viewer, conversation_id)
    contact = await session.get(Contact, conversation.contact_id)
    name = contact.name if contact is not None else None
    email = contact.email if contact is not None else None
    return [_out(r, render(r.content, contact_name=name, contact_email=email, agent_name=agent.name)) for r in rows]


async def _editable(session: SessionDep, agent: AgentPrincipal, response_id: uuid.UUID) -> CannedResponse:
    row = await session.scalar(select(CannedResponse).where(CannedResponse.id == response_id))
    if row is None:
        raise AppError(404, "not_found", "canned response not found")
    if row.created_by != agent.user_id and agent.role not in ("owner", "admin"):
        raise AppError(403, "forbidden", "only its author or an admin can change it")
    return row


@router.patch(
    "/{response_id}",
    response_model=CannedResponseOut,
    responses=errors(forbidden="only its author or an admin can change it", conflict="short_code_taken"),
)
async def update_canned_response(
    response_id: uuid.UUID, body: CannedResponseUpdate, agent: CurrentAgent, session: SessionDep
) -> CannedResponseOut:
    async with atomic(session):
        row = await _editable(session, agent, response_id)
        changes = body.model_dump(exclude_unset=True, exclude_none=True)
        for field, value in changes.items():
            setattr(row, field, value)
        try:
            await session.flush()
        except IntegrityError:
            raise AppError(409, "short_code_taken", "a canned response with this short code exists") from None
    return _out(row)


@router.delete(
    "/{response_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(forbidden="only its author or an admin can delete it"),
)
async def delete_canned_response(response_id: uuid.UUID, agent: CurrentAgent, session: SessionDep) -> Response:
    async with atomic(session):
        await session.delete(await _editable(session, agent, response_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
