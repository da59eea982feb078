"""The website widget's visitor API: sessions, messages, and the visitor socket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from typing import Any

from fastapi import APIRouter, Query, Request, WebSocket, status
from fastapi.responses import JSONResponse
from sqlalchemy import select
from switchboard_common.domain.accounts.tenancy import cross_tenant, scope_session, tenant_session
from switchboard_common.domain.conversations.ingest import (
    OpenConversation,
    inbound_message_events,
    message_id_for,
    open_conversation,
    resolve_contact,
)
from switchboard_common.domain.conversations.models import Conversation, Message
from switchboard_common.domain.events import MessageDeliveryPayload, MessageDeliveryUpdated
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.infra import tokens
from switchboard_common.infra.cache import CacheError
from switchboard_common.infra.clientip import address_prefix, client_address
from switchboard_common.infra.db import atomic
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import errors, provides
from switchboard_common.infra.runtime import Resources

from switchboard_gateway.deps import ResourcesDep, SessionDep, VisitorPrincipal, authenticate_visitor
from switchboard_gateway.ratelimit import RateLimiter, too_many
from switchboard_gateway.realtime.sockets import open_socket, serve_stream, stream_start_id
from switchboard_gateway.realtime.typing import relay_visitor_typing
from switchboard_gateway.widget.consent import check_prechat_consent, record_consent
from switchboard_gateway.widget.cors import (
    WidgetVisitor,
    WidgetVisitorNoSession,
    allowed_origins,
    origin_allowed,
    remember_inbox,
    same_origin,
)
from switchboard_gateway.widget.schemas import (
    VisitorMessageAccepted,
    VisitorMessageCreate,
    VisitorMessageOut,
    VisitorSessionCreate,
    VisitorSessionOut,
)

router = APIRouter(prefix="/api/v1/widget", tags=["widget"])

DEDUPE_TTL_SECONDS = 24 * 3600


@router.post(
    "/sessions",
    status_code=status.HTTP_201_CREATED,
    response_model=VisitorSessionOut,
    responses=errors(
        forbidden="consent_required: accept the inbox's pre-chat consent (its current version)",
        not_found="unknown_widget: no web inbox has this widget token",
        too_many="rate_limited: too many new sessions from this network",
    ),
    openapi_extra=provides(contact_id="$response.body#/contact_id"),
)
async def create_visitor_session(
    body: VisitorSessionCreate, session: SessionDep, resources: ResourcesDep, request: Request
) -> VisitorSessionOut:
    settings = request.app.state.settings
    network = address_prefix(client_address(request, settings.trusted_proxies)) or "unknown"
    limiter = RateLimiter.of(resources)
    decision = await limiter.hit(
        "widget-sessions", limiter.hashed(network), limit=settings.widget_sessions_per_10_minutes, window_seconds=600
    )
    if not decision.allowed:
        raise too_many(decision, "too many new chat sessions from this network, retry later")
    # The lookup that finds the account (by the inbox's public widget token); then the session is that account's.
    inbox = await session.scalar(
        cross_tenant(select(Inbox).where(Inbox.widget_token == body.widget_token, Inbox.channel == "web"))
    )
    if inbox is None:
        raise AppError(404, "unknown_widget", "no web inbox has this widget token")
    scope_session(session, inbox.account_id)
    remember_inbox(request, inbox)
    consent_version = check_prechat_consent(inbox, body.consent.version if body.consent else None)
    async with atomic(session):
        # Each widget session is its own identity: an unverified e-mail never merges into another contact.
        contact_id = await resolve_contact(
            session,
            account_id=inbox.account_id,
            channel="web",
            external_id=f"visitor:{uuid.uuid4()}",
            name=body.name,
            email=str(body.email) if body.email else None,
        )
        if consent_version is not None:
            await record_consent(
                session,
                account_id=inbox.account_id,
                contact_id=contact_id,
                inbox_id=inbox.id,
                kind="pre_chat",
                version=consent_version,
            )
    token = tokens.issue(
        resources.settings.secret_key,
        kind="visitor",
        subject=contact_id,
        account_id=inbox.account_id,
        inbox_id=inbox.id,
        ttl_seconds=resources.settings.visitor_token_ttl_seconds,
    )
    return VisitorSessionOut(visitor_token=token, contact_id=contact_id)


# The ack path's one database read: whether this client message id was already stored, and the visitor's
# unresolved conversation in this inbox (most messages continue one). Sent as is to asyncpg (its statement cache
# prepares it once per connection): through SQLAlchemy's execution layer it cost more CPU than its round trip.
ACK_LOOKUP = """
    SELECT (SELECT m.conversation_id FROM messages m
            WHERE m.id = $1::uuid AND m.account_id = $2) AS stored,
           c.id, c.status
    FROM (SELECT 1) AS one
    LEFT JOIN LATERAL (
        SELECT id, status FROM conversations
        WHERE account_id = $2 AND inbox_id = $3 AND contact_id = $4
          AND status <> 'resolved' LIMIT 1
    ) AS c ON true
    """


# The visitors whose conversation this process is opening: (inbox, contact) -> the opening's outcome.
OPENING: dict[tuple[uuid.UUID, uuid.UUID], asyncio.Future[OpenConversation]] = {}


async def open_once(resources: Resources, visitor: VisitorPrincipal, text_body: str) -> OpenConversation:
    """The visitor's conversation, opened by one request at a time in this process. A visitor's next messages
    often arrive before the first one's transaction committed: each opened a transaction of its own that then
    waited on the first one's row lock, holding a pooled connection meanwhile, and a burst of new visitors (a
    campaign, wrk's 32 connections) filled the pool with them and refused the rest with 503 overloaded. They
    wait for that one opening instead (concurrent openings in other replicas still meet at the unique index)."""
    key = (visitor.inbox_id, visitor.contact_id)
    while (pending := OPENING.get(key)) is not None:
        with contextlib.suppress(asyncio.CancelledError):
            opened = await asyncio.shield(pending)
            return OpenConversation(opened.id, False, opened.status)
        if not pending.cancelled():
            raise asyncio.CancelledError  # this request was cancelled, not the opening it waited for
        # The opening request failed or went away: the next one tries.
    future: asyncio.Future[OpenConversation] = asyncio.get_running_loop().create_future()
    OPENING[key] = future
    try:
        async with tenant_session(resources.sessionmaker, visitor.account_id) as session, atomic(session):
            conversation = await open_conversation(
                session,
                account_id=visitor.account_id,
                inbox_id=visitor.inbox_id,
                contact_id=visitor.contact_id,
                channel="web",
                pseudonyms=resources.pseudonyms,
                text_body=text_body,
            )
    except BaseException:
        future.cancel()  # the waiters try themselves (their answer is theirs: a 503 of this one is not)
        raise
    else:
        future.set_result(conversation)
    finally:
        del OPENING[key]
    return conversation


def accepted(message_id: uuid.UUID, conversation_id: uuid.UUID) -> JSONResponse:
    """The 202 body (``VisitorMessageAccepted``), written directly: FastAPI would validate and re-encode it."""
    return JSONResponse(
        {"message_id": str(message_id), "conversation_id": str(conversation_id)}, status_code=status.HTTP_202_ACCEPTED
    )


@router.post(
    "/messages",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=VisitorMessageAccepted,
    responses=errors(
        too_many="rate_limited: too many messages from this visitor",
        unavailable="retry with the same client_message_id",
    ),
    openapi_extra=provides(conversation_id="$response.body#/conversation_id"),
)
async def post_visitor_message(
    body: VisitorMessageCreate,
    visitor: WidgetVisitorNoSession,
    resources: ResourcesDep,
    request: Request,
) -> JSONResponse:
    if body.client_message_id:
        message_id = message_id_for(visitor.account_id, f"web:{visitor.contact_id}", body.client_message_id)
        dedupe_key: str | None = resources.keys.widget_message(message_id)
    else:
        message_id, dedupe_key = uuid.uuid4(), None
    # One Redis round trip: the visitor's rate limit and whether this message id was already accepted.
    decision, seen = await RateLimiter.of(resources).hit_and_get(
        "widget-messages",
        str(visitor.contact_id),
        limit=request.app.state.settings.widget_messages_per_minute,
        window_seconds=60,
        get=dedupe_key,
    )
    if not decision.allowed:
        raise too_many(decision, "too many messages, slow down")
    if seen:
        return accepted(message_id, uuid.UUID(seen))
    # One database round trip (no transaction: asyncpg outside one autocommits) for what is already stored and
    # the open conversation.
    async with resources.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        found = await driver.fetchrow(
            ACK_LOOKUP, message_id if dedupe_key else None, visitor.account_id, visitor.inbox_id, visitor.contact_id
        )
    if found["stored"] is not None:
        return accepted(message_id, found["stored"])
    if found["id"] is not None:
        conversation = OpenConversation(found["id"], False, found["status"])
    else:
        conversation = await open_once(resources, visitor, body.text)
    events = inbound_message_events(
        account_id=visitor.account_id,
        inbox_id=visitor.inbox_id,
        contact_id=visitor.contact_id,
        conversation=conversation,
        channel="web",
        message_id=message_id,
        text_body=body.text,
        external_id=body.client_message_id,
    )
    try:
        await resources.bus.publish_many(events)
    except Exception as exc:
        raise AppError(503, "unavailable", "message not accepted; retry with the same client_message_id") from exc
    if dedupe_key:
        # Recorded only once durably on Kafka: a retry of a failed attempt must publish again. The message is
        # accepted now, so a saturated Redis must not turn this into a refusal (a retry dedupes on the stored row).
        with contextlib.suppress(CacheError):
            await resources.redis.set(dedupe_key, str(conversation.id), ex=DEDUPE_TTL_SECONDS)
    return accepted(message_id, conversation.id)


@router.get(
    "/messages",
    response_model=list[VisitorMessageOut],
    openapi_extra=provides(conversation_id="$response.body#/0/conversation_id"),
)
async def list_visitor_messages(
    visitor: WidgetVisitor, session: SessionDep, limit: int = Query(default=100, ge=1, le=500)
) -> list[VisitorMessageOut]:
    """The visitor's own conversation history in this inbox (newest conversation first)."""
    rows = (
        (
            await session.execute(
                select(Message)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(
                    Conversation.contact_id == visitor.contact_id,
                    Conversation.inbox_id == visitor.inbox_id,
                    ~Message.private,
                )
                .order_by(Message.created_at.desc(), Message.id)
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    return [VisitorMessageOut.model_validate(m, from_attributes=True) for m in reversed(rows)]


# Statuses in the order a message goes through them: a receipt never steps a message back.
RECEIPT_ORDER = {"pending": 0, "sent": 1, "delivered": 2, "read": 3}
RECEIPTS_PER_FRAME = 50


async def report_receipt(resources: Resources, visitor: Any, message_id: Any, status: str) -> None:
    """The widget showed (delivered) or the visitor saw (read) a reply: that one and the earlier replies of its
    conversation move on, and the agent sees it (``message.delivery_updated``)."""
    try:
        target = uuid.UUID(str(message_id))
    except ValueError:
        return
    async with tenant_session(resources.sessionmaker, visitor.account_id) as session:
        anchor = (
            await session.execute(
                select(Message.conversation_id, Message.created_at)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(
                    Message.id == target,
                    Conversation.contact_id == visitor.contact_id,
                    Conversation.inbox_id == visitor.inbox_id,
                    Message.direction == "outbound",
                    ~Message.private,
                )
            )
        ).first()
        if anchor is None:
            return
        behind = [s for s, rank in RECEIPT_ORDER.items() if rank < RECEIPT_ORDER[status]]
        ids = (
            await session.scalars(
                select(Message.id)
                .where(
                    Message.conversation_id == anchor.conversation_id,
                    Message.direction == "outbound",
                    ~Message.private,
                    Message.created_at <= anchor.created_at,
                    Message.delivery_status.in_(behind),
                )
                .order_by(Message.created_at.desc())
                .limit(RECEIPTS_PER_FRAME)
            )
        ).all()
    for receipt_for in ids:
        await resources.bus.publish(
            MessageDeliveryUpdated(
                tenant_id=visitor.account_id,
                conversation_id=anchor.conversation_id,
                payload=MessageDeliveryPayload(message_id=receipt_for, status=status),
            )
        )


@router.websocket("/ws")
async def visitor_socket(websocket: WebSocket, token: str | None = None, last_event_id: str | None = None) -> None:
    resources = websocket.app.state.resources

    async def authenticate(candidate: str) -> VisitorPrincipal:
        visitor = authenticate_visitor(candidate, resources)
        # Sockets have no CORS: a browser page of another origin is refused unless the inbox allows it.
        origin = websocket.headers.get("origin")
        if origin and not same_origin(origin, websocket.headers.get("host")):
            fallback = websocket.app.state.widget_cors_fallback
            if not origin_allowed(origin, await allowed_origins(resources, fallback, Inbox.id == visitor.inbox_id)):
                raise AppError(403, "origin_not_allowed", "this site may not open the inbox's socket")
        return visitor

    opened = await open_socket(websocket, token, authenticate)
    if opened is None:
        return
    visitor = opened[0]
    registry = websocket.app.state.sockets
    registry.add(websocket)
    stream = resources.keys.contact_stream(visitor.contact_id)
    try:
        start = await stream_start_id(resources.redis, stream, last_event_id)
        await websocket.send_text(
            json.dumps({"type": "session.ready", "contact_id": str(visitor.contact_id), "last_event_id": start})
        )

        async def on_message(message: dict[str, Any]) -> None:
            if message.get("type") == "typing":
                await relay_visitor_typing(resources, visitor)
            elif message.get("type") in ("delivered", "read"):
                await report_receipt(resources, visitor, message.get("message_id"), message["type"])

        await serve_stream(
            websocket,
            redis=resources.redis,
            stream=stream,
            start_id=start,
            kind="visitor",
            on_client_message=on_message,
        )
    finally:
        registry.discard(websocket)
