"""Contacts: read one with its identities across channels, its custom attributes and notes.

Account-scoped (another account's id is a 404), and under the account's visibility setting an agent reads
only contacts of conversations they may see (``switchboard_common.domain.conversations.visibility``)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response, status
from sqlalchemy import func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.contacts.models import Contact, ContactIdentity, ContactNote
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.conversations.visibility import Viewer, visible
from switchboard_common.infra.db import atomic
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import errors, provides

from switchboard_gateway.contacts.schemas import (
    MAX_ATTRIBUTES,
    ContactOut,
    ContactUpdate,
    IdentityOut,
    NoteCreate,
    NoteOut,
)
from switchboard_gateway.deps import SessionDep, ViewerDep

router = APIRouter(prefix="/api/v1/contacts", tags=["contacts"])
MAX_NOTES_PER_CONTACT = 500


def visible_contact(viewer: Viewer) -> Any:
    """Contacts ``viewer`` may read: all of the account's, or (restricted) those of conversations they see; the
    request's session is scoped to the viewer's account and adds the account condition."""
    if viewer.sees_all:
        return true()
    seen = select(Conversation.id).where(Conversation.contact_id == Contact.id, visible(viewer))
    return seen.correlate_except(Conversation).exists()


async def _contact(
    session: AsyncSession, viewer: Viewer, contact_id: uuid.UUID, *, for_update: bool = False
) -> Contact:
    query = select(Contact).where(Contact.id == contact_id, visible_contact(viewer))
    if for_update:
        query = query.with_for_update()
    contact = await session.scalar(query)
    if contact is None:
        raise AppError(404, "not_found", "no such contact")
    return contact


async def _out(session: AsyncSession, viewer: Viewer, contact: Contact) -> ContactOut:
    identities = (
        await session.scalars(
            select(ContactIdentity).where(ContactIdentity.contact_id == contact.id).order_by(ContactIdentity.created_at)
        )
    ).all()
    count = await session.scalar(
        select(func.count()).select_from(Conversation).where(Conversation.contact_id == contact.id, visible(viewer))
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
        custom_attributes=dict(contact.custom_attributes or {}),
    )


@router.get("/{contact_id}", response_model=ContactOut)
async def get_contact(contact_id: uuid.UUID, session: SessionDep, viewer: ViewerDep) -> ContactOut:
    return await _out(session, viewer, await _contact(session, viewer, contact_id))


@router.patch(
    "/{contact_id}", response_model=ContactOut, responses=errors(conflict="too_many_attributes for this contact")
)
async def update_contact(
    contact_id: uuid.UUID, body: ContactUpdate, session: SessionDep, viewer: ViewerDep
) -> ContactOut:
    """Sets custom attributes (``null`` removes one). Name, e-mail and phone are corrected through a privacy
    rectification request, which reaches every store."""
    async with atomic(session):
        contact = await _contact(session, viewer, contact_id, for_update=True)
        merged = {**(contact.custom_attributes or {}), **body.custom_attributes}
        merged = {k: v for k, v in merged.items() if v is not None}
        if len(merged) > MAX_ATTRIBUTES:
            # 409: the request is well formed; with the attributes the contact has, there would be too many.
            raise AppError(409, "too_many_attributes", f"a contact has at most {MAX_ATTRIBUTES} attributes")
        contact.custom_attributes = merged
        await session.flush()
        out = await _out(session, viewer, contact)
    return out


@router.get(
    "/{contact_id}/notes",
    response_model=list[NoteOut],
    openapi_extra=provides(note_id="$response.body#/0/id", contact_id="$response.body#/0/contact_id"),
)
async def list_notes(contact_id: uuid.UUID, session: SessionDep, viewer: ViewerDep) -> list[NoteOut]:
    """Newest first."""
    contact = await _contact(session, viewer, contact_id)
    rows = (
        await session.scalars(
            select(ContactNote)
            .where(ContactNote.contact_id == contact.id)
            .order_by(ContactNote.created_at.desc(), ContactNote.id)
        )
    ).all()
    return [_note_out(n) for n in rows]


def _note_out(note: ContactNote) -> NoteOut:
    return NoteOut(
        id=note.id, contact_id=note.contact_id, author_id=note.author_id, text=note.text, created_at=note.created_at
    )


@router.post(
    "/{contact_id}/notes",
    status_code=status.HTTP_201_CREATED,
    response_model=NoteOut,
    responses=errors(conflict="too_many_notes for this contact"),
    openapi_extra=provides(note_id="$response.body#/id", contact_id="$response.body#/contact_id"),
)
async def create_note(contact_id: uuid.UUID, body: NoteCreate, session: SessionDep, viewer: ViewerDep) -> NoteOut:
    async with atomic(session):
        contact = await _contact(session, viewer, contact_id, for_update=True)
        count = await session.scalar(
            select(func.count()).select_from(ContactNote).where(ContactNote.contact_id == contact.id)
        )
        if (count or 0) >= MAX_NOTES_PER_CONTACT:
            raise AppError(409, "too_many_notes", f"a contact has at most {MAX_NOTES_PER_CONTACT} notes")
        note = ContactNote(
            id=uuid.uuid4(),
            account_id=viewer.account_id,
            contact_id=contact.id,
            author_id=viewer.user_id,
            text=body.text,
            created_at=utcnow(),
        )
        session.add(note)
    return _note_out(note)


@router.delete(
    "/{contact_id}/notes/{note_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(forbidden="only its author or an admin can delete a note"),
)
async def delete_note(contact_id: uuid.UUID, note_id: uuid.UUID, session: SessionDep, viewer: ViewerDep) -> Response:
    """Its author or an admin deletes a note."""
    async with atomic(session):
        contact = await _contact(session, viewer, contact_id)
        note = await session.scalar(
            select(ContactNote).where(ContactNote.id == note_id, ContactNote.contact_id == contact.id)
        )
        if note is None:
            raise AppError(404, "not_found", "no such note")
        if note.author_id != viewer.user_id and viewer.role not in ("owner", "admin"):
            raise AppError(403, "forbidden", "only its author or an admin can delete a note")
        await session.delete(note)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
