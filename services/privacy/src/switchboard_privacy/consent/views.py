"""``/api/v1/privacy/contacts/{id}/sharing``: the do-not-sell/share opt-out; ``.../consents``: the record."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from switchboard_common.domain.accounts.auth import CurrentAgent, SessionDep
from switchboard_common.domain.contacts.models import Contact
from switchboard_common.domain.privacy.models import ConsentRecord
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.inputs import Bool
from switchboard_common.infra.schemas import Strict

from switchboard_privacy.audit import log as audit

router = APIRouter(prefix="/api/v1/privacy", tags=["privacy"])


class SharingIn(Strict):
    opt_out: Bool


async def _contact(session: SessionDep, account_id: uuid.UUID, contact_id: uuid.UUID) -> Contact:
    contact = await session.get(Contact, contact_id)
    if contact is None or contact.account_id != account_id:
        raise AppError(404, "not_found", "contact not found")
    return contact


@router.put("/contacts/{contact_id}/sharing")
async def set_sharing(
    contact_id: uuid.UUID, body: SharingIn, agent: CurrentAgent, session: SessionDep
) -> dict[str, Any]:
    contact = await _contact(session, agent.account_id, contact_id)
    contact.sharing_opt_out = body.opt_out
    session.add(
        ConsentRecord(
            account_id=agent.account_id, contact_id=contact.id, kind="sharing", version=None, granted=not body.opt_out
        )
    )
    await audit.record(
        session,
        account_id=agent.account_id,
        actor=f"user:{agent.user_id}",
        action="consent.sharing_changed",
        details={"opt_out": body.opt_out},
    )
    await session.commit()
    return {"contact_id": str(contact.id), "sharing_opt_out": contact.sharing_opt_out}


@router.get("/contacts/{contact_id}/consents")
async def list_consents(contact_id: uuid.UUID, agent: CurrentAgent, session: SessionDep) -> list[dict[str, Any]]:
    await _contact(session, agent.account_id, contact_id)
    rows = await session.scalars(
        select(ConsentRecord).where(ConsentRecord.contact_id == contact_id).order_by(ConsentRecord.created_at)
    )
    return [
        {
            "kind": r.kind,
            "version": r.version,
            "granted": r.granted,
            "inbox_id": str(r.inbox_id) if r.inbox_id else None,
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]
