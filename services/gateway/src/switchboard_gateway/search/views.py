"""``GET /api/v1/search``: the account's messages and contacts by full-text search.

Each message is indexed by PostgreSQL with the dictionary of its language (``messages.search_vector``,
``switchboard_common.domain.search.languages``); a query is parsed with every dictionary and matches a message
in whichever its language uses, ranked (``ts_rank_cd``) and highlighted (``ts_headline``) with that same one.
Contacts are found by name, e-mail, phone and custom attribute values. Only what the caller may see
(visibility) is searched. The index is a generated column of the row: an erased, deleted or expired message
(or a pass-through one, never stored) leaves nothing to find.
"""

from __future__ import annotations

import html
import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy import ColumnElement, and_, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.contacts.models import Contact
from switchboard_common.domain.conversations.models import Conversation, Message
from switchboard_common.domain.conversations.visibility import Viewer, visible
from switchboard_common.domain.labels.queries import has_label
from switchboard_common.domain.search.languages import ALL_CONFIGS, config_case_sql
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.inputs import VISIBLE_TEXT

from switchboard_gateway.contacts.views import visible_contact
from switchboard_gateway.deps import SessionDep, ViewerDep
from switchboard_gateway.labels.schemas import LABEL_PATTERN
from switchboard_gateway.search.schemas import ContactHit, HitPage, MessageHit, SearchOut

ASCII_SPACE = "\t\n\x0b\x0c\r "
ASSIGNEE_PATTERN = r"^(me|unassigned|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"

router = APIRouter(prefix="/api/v1/search", tags=["search"])

# ts_headline marks matches with these (never in stored text: control characters); the API escapes the
# passage and turns them into <mark> tags, so the highlight is safe HTML whatever the message said.
START, STOP = "\x01", "\x02"
HEADLINE_OPTIONS = f"StartSel={START}, StopSel={STOP}, MaxWords=35, MinWords=15"


def _tsquery(config: str, q: str) -> ColumnElement[Any]:
    return func.websearch_to_tsquery(literal_column(f"'{config}'::regconfig"), q)


def _any_language(q: str) -> ColumnElement[Any]:
    """The query in every dictionary, OR-ed: matches a message indexed with any of them (GIN index usable)."""
    combined = _tsquery(ALL_CONFIGS[0], q)
    for config in ALL_CONFIGS[1:]:
        combined = combined.op("||")(_tsquery(config, q))
    return combined


def _per_row(q: str) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The row's dictionary and the query parsed with it (for its rank and highlight)."""
    config: ColumnElement[Any] = literal_column(f"({config_case_sql('messages.language')})")
    return config, func.websearch_to_tsquery(config, q)


def _highlight(passage: str) -> tuple[str, str]:
    escaped = html.escape(passage, quote=False).replace(START, "<mark>").replace(STOP, "</mark>")
    return escaped, passage.replace(START, "").replace(STOP, "")


def _conversation_filters(
    viewer: Viewer,
    inbox_id: uuid.UUID | None,
    label: str | None,
    status: str | None,
    assignee: str | None,
) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [visible(viewer)]
    if inbox_id is not None:
        found.append(Conversation.inbox_id == inbox_id)
    if label:
        found.append(has_label(label))
    if status == "queued":
        found += [Conversation.status == "open", Conversation.assignee_id.is_(None)]
    elif status and status != "all":
        found.append(Conversation.status == status)
    if assignee == "me":
        found.append(Conversation.assignee_id == viewer.user_id)
    elif assignee == "unassigned":
        found.append(Conversation.assignee_id.is_(None))
    elif assignee:
        try:
            found.append(Conversation.assignee_id == uuid.UUID(assignee))
        except ValueError:
            raise AppError(422, "invalid_assignee", "assignee is me, unassigned or an agent id") from None
    return found


async def _messages(
    session: AsyncSession, q: str, filters: list[ColumnElement[bool]], viewer: Viewer, page: int, per_page: int
) -> HitPage[MessageHit]:
    config, row_query = _per_row(q)
    where = and_(
        Message.search_vector.op("@@")(_any_language(q)),
        *filters,
    )
    base = select(Message.id).join(Conversation, Conversation.id == Message.conversation_id).where(where)
    total = await session.scalar(select(func.count()).select_from(base.subquery()))
    if not total:
        return HitPage[MessageHit](total=0, items=[])
    rank = func.ts_rank_cd(Message.search_vector, row_query).label("rank")
    rows = await session.execute(
        select(
            Message.id.label("message_id"),
            Message.conversation_id,
            Message.direction,
            Message.sender_type,
            Message.sender_id,
            Message.private,
            Message.language,
            Message.created_at,
            Conversation.contact_id,
            Conversation.inbox_id,
            Conversation.channel,
            Conversation.status,
            Conversation.assignee_id,
            Contact.name.label("contact_name"),
            rank,
            func.ts_headline(config, Message.text, row_query, HEADLINE_OPTIONS).label("headline"),
        )
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(where)
        .order_by(rank.desc(), Message.created_at.desc(), Message.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    items = []
    for row in rows.all():
        highlight, snippet = _highlight(row.headline or "")
        items.append(MessageHit.model_validate({**row._mapping, "highlight": highlight, "snippet": snippet}))
    return HitPage[MessageHit](total=int(total), items=items)


async def _contacts(
    session: AsyncSession,
    q: str,
    viewer: Viewer,
    conversation_filters: list[ColumnElement[bool]] | None,
    page: int,
    per_page: int,
) -> HitPage[ContactHit]:
    query = _tsquery("simple", q)
    where = and_(visible_contact(viewer), Contact.search_vector.op("@@")(query))
    if conversation_filters is not None:
        matching = select(Conversation.id).where(Conversation.contact_id == Contact.id, *conversation_filters)
        where = and_(where, matching.correlate_except(Conversation).exists())
    total = await session.scalar(select(func.count()).select_from(Contact).where(where))
    if not total:
        return HitPage[ContactHit](total=0, items=[])
    rank = func.ts_rank_cd(Contact.search_vector, query).label("rank")
    rows = await session.execute(
        select(Contact, rank)
        .where(where)
        .order_by(rank.desc(), Contact.created_at.desc(), Contact.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return HitPage[ContactHit](
        total=int(total),
        items=[
            ContactHit(
                contact_id=c.id,
                name=c.name,
                email=c.email,
                phone=c.phone,
                custom_attributes=dict(c.custom_attributes or {}),
                rank=float(r),
            )
            for c, r in rows.all()
        ],
    )


@router.get("", response_model=SearchOut)
async def search(
    session: SessionDep,
    viewer: ViewerDep,
    q: str = Query(
        min_length=1,
        max_length=200,
        pattern=VISIBLE_TEXT,
        description='words; "a phrase", or, -excluded (web search syntax)',
    ),
    type_: Literal["all", "messages", "contacts"] = Query(default="all", alias="type"),
    inbox_id: uuid.UUID | None = None,
    label: str | None = Query(default=None, max_length=50, pattern=LABEL_PATTERN),
    status: Literal["bot", "open", "pending", "snoozed", "resolved", "spam", "queued", "all"] | None = None,
    assignee: str | None = Query(
        default=None, max_length=40, pattern=ASSIGNEE_PATTERN, description="me, unassigned or an agent id"
    ),
    since: datetime | None = Query(default=None, description="messages created at or after"),
    until: datetime | None = Query(default=None, description="messages created before"),
    page: int = Query(default=1, ge=1, le=500),
    per_page: int = Query(default=20, ge=1, le=100),
) -> SearchOut:
    text_query = q.strip(ASCII_SPACE)  # the pattern's whitespace: a query the schema allows keeps a word
    if not text_query or "\x00" in text_query:
        raise AppError(422, "invalid_query", "q needs words")
    filters = _conversation_filters(viewer, inbox_id, label, status, assignee)
    empty_messages: HitPage[MessageHit] = HitPage[MessageHit](total=0, items=[])
    empty_contacts: HitPage[ContactHit] = HitPage[ContactHit](total=0, items=[])
    messages = empty_messages
    contacts = empty_contacts
    if type_ in ("all", "messages"):
        dated = list(filters)
        if since is not None:
            dated.append(Message.created_at >= since)
        if until is not None:
            dated.append(Message.created_at < until)
        messages = await _messages(session, text_query, dated, viewer, page, per_page)
    if type_ in ("all", "contacts"):
        narrowed = inbox_id is not None or bool(label) or status is not None or assignee is not None
        contacts = await _contacts(session, text_query, viewer, filters if narrowed else None, page, per_page)
    return SearchOut(query=text_query, page=page, per_page=per_page, messages=messages, contacts=contacts)
