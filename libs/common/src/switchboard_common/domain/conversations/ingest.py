"""The ingest path shared by every channel: identity -> contact, contact -> open conversation, and the
events that announce a customer message. Runs inside the ack path, so it is a few indexed queries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard_common.domain.accounts.tenancy import require_tenant
from switchboard_common.domain.contacts.models import Contact, ContactIdentity
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.events import (
    Attachment,
    ConversationCreated,
    ConversationCreatedPayload,
    ConversationLabelsChanged,
    ConversationLabelsChangedPayload,
    Event,
    MessageCreated,
    MessageCreatedPayload,
    utcnow,
)
from switchboard_common.domain.inboxes.models import Inbox, InboxBot
from switchboard_common.domain.labels.queries import apply_inbox_labels
from switchboard_common.domain.spam import classifier
from switchboard_common.infra.pseudonyms import Pseudonyms

# Namespace of deterministic message ids: the same platform message always gets the same id.
MESSAGE_ID_NAMESPACE = uuid.UUID("5b1f2a4e-8d0c-4c57-9a37-2f1f0d6c9e11")


def message_id_for(account_id: uuid.UUID, scope: str, external_id: str) -> uuid.UUID:
    return uuid.uuid5(MESSAGE_ID_NAMESPACE, f"{account_id}:{scope}:{external_id}")


async def resolve_contact(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    channel: str,
    external_id: str,
    name: str | None = None,
    email: str | None = None,
) -> uuid.UUID:
    """The contact holding this channel identity, created with it on first sight (race-safe); in a session
    scoped to the account."""
    require_tenant(session, account_id)
    found = await session.scalar(
        select(ContactIdentity.contact_id).where(
            ContactIdentity.channel == channel,
            ContactIdentity.external_id == external_id,
        )
    )
    if found is not None:
        return found
    contact_id = uuid.uuid4()
    session.add(Contact(id=contact_id, account_id=account_id, name=name, email=email))
    await session.flush()
    inserted: uuid.UUID | None = await session.scalar(
        insert(ContactIdentity)
        .values(
            id=uuid.uuid4(),
            account_id=account_id,
            contact_id=contact_id,
            channel=channel,
            external_id=external_id,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(constraint="uq_identity_external")
        .returning(ContactIdentity.contact_id)
    )
    if inserted is not None:
        return inserted
    # Lost a race with a concurrent first message: use the winner's contact, drop ours.
    await session.delete(await session.get(Contact, contact_id))
    winner = await session.scalar(
        select(ContactIdentity.contact_id).where(
            ContactIdentity.channel == channel,
            ContactIdentity.external_id == external_id,
        )
    )
    assert winner is not None
    return winner


async def initial_status(
    session: AsyncSession,
    inbox_id: uuid.UUID,
    *,
    account_id: uuid.UUID | None = None,
    text: str | None = None,
    pseudonyms: Pseudonyms | None = None,
) -> str:
    """The status a new conversation of this inbox starts with: "spam" when the account's learned filter says
    so (never routed; shown in the spam view), "bot" while a working bot serves the inbox (it answers first
    and hands off to humans), else "open" (routed to agents at once)."""
    if (
        account_id is not None
        and pseudonyms is not None
        and await classifier.is_spam(session, account_id, text, pseudonyms)
    ):
        return "spam"
    bot = await session.scalar(
        select(InboxBot.inbox_id).where(
            InboxBot.inbox_id == inbox_id, InboxBot.enabled.is_(True), InboxBot.broken_reason.is_(None)
        )
    )
    return "bot" if bot is not None else "open"


@dataclass(frozen=True)
class OpenConversation:
    id: uuid.UUID
    created: bool
    status: str
    # Labels the inbox's routing rule put on a new conversation (announced with it).
    labels: tuple[str, ...] = ()


async def open_conversation(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    inbox_id: uuid.UUID,
    contact_id: uuid.UUID,
    channel: str,
    pseudonyms: Pseudonyms,
    text_body: str | None = None,
) -> OpenConversation:
    """The contact's unresolved conversation in this inbox, or a new one (race-safe).

    Most messages continue a conversation: one indexed read. Only a new conversation pays for its initial
    status (spam filter, bot lookup), decided from its first message."""
    unresolved = (
        Conversation.inbox_id == inbox_id,
        Conversation.contact_id == contact_id,
        Conversation.status != "resolved",
    )
    existing = (await session.execute(select(Conversation.id, Conversation.status).where(*unresolved))).first()
    if existing is not None:
        return OpenConversation(existing.id, False, existing.status)
    status = await initial_status(session, inbox_id, account_id=account_id, text=text_body, pseudonyms=pseudonyms)
    now = utcnow()
    # A contact writing again after a resolve gets a new conversation, linked to the one it follows.
    previous = (
        select(Conversation.id)
        .where(
            Conversation.inbox_id == inbox_id,
            Conversation.contact_id == contact_id,
            Conversation.status == "resolved",
        )
        .order_by(Conversation.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    created_id = await session.scalar(
        insert(Conversation)
        .values(
            id=uuid.uuid4(),
            account_id=account_id,
            inbox_id=inbox_id,
            contact_id=contact_id,
            channel=channel,
            status=status,
            priority=0,
            created_at=now,
            updated_at=now,
            routing_explanation={},
            assignment_version=0,
            previous_conversation_id=previous,
        )
        .on_conflict_do_nothing(index_elements=["inbox_id", "contact_id"], index_where=text("status <> 'resolved'"))
        .returning(Conversation.id)
    )
    if created_id is not None:
        # The inbox's routing rules may label its conversations (inbox -> label), from the first message on.
        labels = await session.scalar(select(Inbox.routing["labels"]).where(Inbox.id == inbox_id))
        applied: tuple[str, ...] = ()
        if isinstance(labels, list) and labels:
            applied = await apply_inbox_labels(session, account_id, created_id, [str(name) for name in labels])
        return OpenConversation(created_id, True, status, applied)
    # A concurrent first message of the same contact created it a moment ago.
    winner = (await session.execute(select(Conversation.id, Conversation.status).where(*unresolved))).one()
    return OpenConversation(winner.id, False, winner.status)


def inbound_message_events(
    *,
    account_id: uuid.UUID,
    inbox_id: uuid.UUID,
    contact_id: uuid.UUID,
    conversation: OpenConversation,
    channel: str,
    message_id: uuid.UUID,
    text_body: str | None,
    attachments: Sequence[Attachment] = (),
    external_id: str | None = None,
    created_at: datetime | None = None,
) -> list[Event]:
    conversation_id = conversation.id
    events: list[Event] = []
    if conversation.created:
        events.append(
            ConversationCreated(
                tenant_id=account_id,
                conversation_id=conversation_id,
                payload=ConversationCreatedPayload(
                    inbox_id=inbox_id,
                    contact_id=contact_id,
                    channel=channel,
                    status=conversation.status,
                ),
            )
        )
        if conversation.labels:
            # Label SLA policies and label reports learn the labels from this event (see labels_changed_event).
            events.append(
                labels_changed_event(account_id, conversation_id, inbox_id, conversation.labels, cause="created")
            )
    events.append(
        MessageCreated(
            # Deterministic: a retried ingest republishes the same event, which consumers recognise.
            event_id=uuid.uuid5(MESSAGE_ID_NAMESPACE, f"message.created:{message_id}"),
            tenant_id=account_id,
            conversation_id=conversation_id,
            payload=MessageCreatedPayload(
                message_id=message_id,
                inbox_id=inbox_id,
                contact_id=contact_id,
                channel=channel,
                direction="inbound",
                sender_type="contact",
                sender_id=contact_id,
                text=text_body,
                attachments=list(attachments),
                external_id=external_id,
                created_at=created_at or utcnow(),
                conversation_status=conversation.status,
            ),
        )
    )
    return events


def labels_changed_event(
    account_id: uuid.UUID, conversation_id: uuid.UUID, inbox_id: uuid.UUID, labels: Sequence[str], *, cause: str
) -> ConversationLabelsChanged:
    """``conversation.labels_changed``: all of the conversation's labels now. The id is derived from what
    caused it (``created`` for the inbox's rule at creation, a change id otherwise), so a retried ingest
    republishes the same event."""
    return ConversationLabelsChanged(
        event_id=uuid.uuid5(MESSAGE_ID_NAMESPACE, f"conversation.labels_changed:{conversation_id}:{cause}"),
        tenant_id=account_id,
        conversation_id=conversation_id,
        payload=ConversationLabelsChangedPayload(inbox_id=inbox_id, labels=sorted(labels)),
    )
