"""Labels of conversations: the reads every service shares (lists, filters, SLA policies, reports) and the
rule that puts an inbox's labels on its new conversations.

``labels_of`` / ``labels_by_conversation`` read names; ``has_label`` is a WHERE clause for "conversations
carrying this label" (``select(Conversation).where(has_label("billing"))``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard_common.domain.accounts.tenancy import require_tenant
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.labels.models import ConversationLabel, Label
from switchboard_common.infra.db.base import utcnow


def normalize(name: str) -> str:
    """Label names are compared lower-case and trimmed (``Billing`` and ``billing`` are one label)."""
    return name.strip().lower()


def has_label(name: str, conversation: Any = Conversation) -> ColumnElement[bool]:
    """Conversations that carry the label ``name``. A conversation carries only labels of its own account (the
    database holds it: ``conversation_labels`` names both by ``(id, account_id)``), so the name alone decides."""
    return (
        select(ConversationLabel.conversation_id)
        .join(Label, Label.id == ConversationLabel.label_id)
        .where(ConversationLabel.conversation_id == conversation.id, Label.name == normalize(name))
        .correlate_except(ConversationLabel, Label)
        .exists()
    )


async def labels_by_conversation(
    session: AsyncSession, conversation_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """Label names per conversation, sorted, for a page of conversations in one query."""
    if not conversation_ids:
        return {}
    rows = await session.execute(
        select(ConversationLabel.conversation_id, Label.name)
        .join(Label, Label.id == ConversationLabel.label_id)
        .where(ConversationLabel.conversation_id.in_(list(conversation_ids)))
        .order_by(Label.name)
    )
    found: dict[uuid.UUID, list[str]] = {cid: [] for cid in conversation_ids}
    for conversation_id, name in rows.all():
        found[conversation_id].append(name)
    return found


async def labels_of(session: AsyncSession, conversation_id: uuid.UUID) -> list[str]:
    """The label names of one conversation, sorted."""
    return (await labels_by_conversation(session, [conversation_id]))[conversation_id]


async def label_ids(session: AsyncSession, account_id: uuid.UUID, names: Iterable[str]) -> dict[str, uuid.UUID]:
    """The account's labels among ``names`` (normalized name -> id), in a session scoped to it; unknown names are
    left out."""
    require_tenant(session, account_id)
    wanted = sorted({normalize(n) for n in names})
    if not wanted:
        return {}
    rows = await session.execute(select(Label.name, Label.id).where(Label.name.in_(wanted)))
    return {name: label_id for name, label_id in rows.all()}


async def replace_labels(
    session: AsyncSession, account_id: uuid.UUID, conversation_id: uuid.UUID, ids: Iterable[uuid.UUID]
) -> None:
    """The conversation carries exactly these labels afterwards."""
    keep = list(set(ids))
    await session.execute(
        delete(ConversationLabel).where(
            ConversationLabel.conversation_id == conversation_id, ConversationLabel.label_id.not_in(keep)
        )
    )
    await add_labels(session, account_id, conversation_id, keep)


async def add_labels(
    session: AsyncSession, account_id: uuid.UUID, conversation_id: uuid.UUID, ids: Iterable[uuid.UUID]
) -> None:
    rows = [
        {"conversation_id": conversation_id, "label_id": label_id, "account_id": account_id, "created_at": utcnow()}
        for label_id in set(ids)
    ]
    if rows:
        await session.execute(insert(ConversationLabel).values(rows).on_conflict_do_nothing())


async def apply_inbox_labels(
    session: AsyncSession, account_id: uuid.UUID, conversation_id: uuid.UUID, names: Iterable[str]
) -> tuple[str, ...]:
    """A new conversation gets its inbox's routing labels (``routing.labels``: inbox -> label); returns the
    names it now carries (labels deleted since the rule was set are skipped)."""
    found = await label_ids(session, account_id, names)
    await add_labels(session, account_id, conversation_id, found.values())
    return tuple(sorted(found))
