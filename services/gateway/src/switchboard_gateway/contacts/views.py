"""Read a contact with its identities across channels (account-scoped: another account's id is a 404)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from sqlalchemy import func, select
from switchboard_common.domain.contacts.models import Contact, ContactIdentity
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.infra.errors import AppError

from switchboard_gateway.contacts.schemas import ContactOut, IdentityOut
from switchboard_gateway.deps import CurrentAgent, SessionDep

router = APIRouter(prefix="/api/v1/contacts", tags=["contacts"])


@router.get("/{contact_id}", response_model=ContactOut)
async def get_contact(contact_id: uuid.UUID, agent: CurrentAgent, session: SessionDep) -> ContactOut:
    contact = await session.scalar(
        select(Contact).where(Contact.id == contact_id, Contact.account_id == agent.account_id)
    )
    if contact is None:
        raise AppError(404, "not_found", "no such contact")
    identities = (
        await session.scalars(
            select(ContactIdentity)
            .where(ContactIdentity.contact_id == contact.id, ContactIdentity.account_id == agent.account_id)
            .order_by(ContactIdentity.created_at)
        )
    ).all()
    count = await session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.contact_id == contact.id, Conversation.account_id == agent.account_id)
    )
    return ContactOut(
        id=contact.id,
        name=contact.name,
        email=contact.email,
        phone=contact.phone,
        last_seen_at=contact.last_seen_at,
        created_at=contact.created_at,
        identities=[
            IdentityOut(channel=i.channel, external_id=i.external_id, created_at=i.created_at) for i in identities
        ],
        conversation_count=count or 0,
    )
