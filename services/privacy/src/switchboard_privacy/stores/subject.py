"""Who a request is about, resolved live from PostgreSQL (the system of record) at every step."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.contacts.models import Contact, ContactIdentity
from switchboard_common.domain.conversations.models import Conversation, Message


@dataclass
class Subject:
    account_id: uuid.UUID
    contact_ids: list[uuid.UUID]
    conversation_ids: list[uuid.UUID] = field(default_factory=list)
    identities: list[tuple[str, str]] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)

    def string_needles(self) -> list[str]:
        """Non-uuid identifiers to look for in free-form stores (Redis values, file names)."""
        values = [ext for _channel, ext in self.identities] + self.emails + self.phones
        return [v for v in values if v and len(v) >= 6]

    def uuid_needles(self) -> set[str]:
        return {str(i) for i in self.contact_ids + self.conversation_ids}


async def find_contacts(session: AsyncSession, account_id: uuid.UUID, subject: dict[str, Any]) -> list[uuid.UUID]:
    """Contacts matching any identifier of the request (contact id, e-mail, phone, channel identity)."""
    conditions = []
    if subject.get("contact_id"):
        conditions.append(Contact.id == uuid.UUID(str(subject["contact_id"])))
    if subject.get("email"):
        # Addresses are case-insensitive in practice, and intake lower-cases them (the widget's Email type):
        # a request naming Mail@Example.org finds the contact stored as mail@example.org, and older rows too.
        conditions.append(func.lower(Contact.email) == str(subject["email"]).strip().lower())
    if subject.get("phone"):
        conditions.append(Contact.phone == subject["phone"])
    for identity in subject.get("identities") or []:
        conditions.append(
            Contact.id.in_(
                select(ContactIdentity.contact_id).where(
                    ContactIdentity.account_id == account_id,
                    ContactIdentity.channel == identity["channel"],
                    ContactIdentity.external_id == identity["external_id"],
                )
            )
        )
    if not conditions:
        return []
    rows = await session.scalars(select(Contact.id).where(Contact.account_id == account_id, or_(*conditions)))
    return list(rows)


async def load_subject(session: AsyncSession, account_id: uuid.UUID, contact_ids: list[uuid.UUID]) -> Subject:
    contacts = (
        await session.execute(
            select(Contact.id, Contact.email, Contact.phone).where(
                Contact.account_id == account_id, Contact.id.in_(contact_ids)
            )
        )
    ).all()
    identities = (
        await session.execute(
            select(ContactIdentity.channel, ContactIdentity.external_id).where(
                ContactIdentity.account_id == account_id, ContactIdentity.contact_id.in_(contact_ids)
            )
        )
    ).all()
    conversations = await session.scalars(
        select(Conversation.id).where(Conversation.account_id == account_id, Conversation.contact_id.in_(contact_ids))
    )
    return Subject(
        account_id=account_id,
        contact_ids=list(contact_ids),
        conversation_ids=list(conversations),
        identities=[(c, e) for c, e in identities],
        emails=[row.email for row in contacts if row.email],
        phones=[row.phone for row in contacts if row.phone],
    )


async def message_count(session: AsyncSession, subject: Subject) -> int:
    from sqlalchemy import func

    return int(
        await session.scalar(
            select(func.count()).select_from(Message).where(Message.conversation_id.in_(subject.conversation_ids))
        )
        or 0
    )
