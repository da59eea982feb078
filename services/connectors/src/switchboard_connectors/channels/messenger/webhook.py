"""Facebook Messenger: webhook verification and ingress, Send API replies, receipts, attachments, handover.

Ack path (``POST /webhooks/messenger``): verify ``X-Hub-Signature-256`` over the raw body, normalize every
entry and event of the batch, find each page's inbox, drop already-accepted ``mid``s, publish (acks=all),
then remember the ``mid``s. Slow work happens after, from Kafka (:class:`MessengerWorker`): attachment
downloads, receipts -> ``message.delivery_updated``, and handover notifications. Replies, and the thread
control they need (:mod:`~switchboard_connectors.channels.messenger.handover`), go out in conversation order
from :class:`MessengerOutbound`.
"""

from __future__ import annotations

import hmac
import json
import uuid

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from switchboard_common.domain.contacts.pseudonyms import messenger_psid
from switchboard_common.domain.events import (
    Attachment,
    Event,
    InboundCsatPayload,
    InboundCsatReceived,
    InboundHandoverPayload,
    InboundHandoverReceived,
    InboundMessagePayload,
    InboundMessageReceived,
    InboundReceiptPayload,
    InboundReceiptReceived,
)
from switchboard_common.infra import metrics
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import errors, raw_body
from switchboard_common.infra.runtime import Resources

from switchboard_connectors.channels.messenger import normalizer
from switchboard_connectors.channels.messenger.handover import uses_handover
from switchboard_connectors.ingress import AckTimer, InboxDirectory, InboxRecord, publish_and_remember, seen

log = structlog.get_logger(__name__)
router = APIRouter(tags=["webhooks"])

CHANNEL = "messenger"
LAST_INBOUND_TTL_SECONDS = 8 * 24 * 3600
HANDOVER_EVENT_NAMESPACE = uuid.UUID("3f8e0b52-7a61-4c1e-9d4a-5b2c6e8f1a07")


def contact_external_id(page_id: str, psid: str) -> str:
    return f"{page_id}:{psid}"


def last_inbound_key(res: Resources, inbox_id: uuid.UUID, psid: str) -> str:
    return res.keys.messenger_last_inbound(inbox_id, messenger_psid(res.pseudonyms, psid))


def _content_type(kind: str) -> str | None:
    return normalizer.CONTENT_TYPES.get(kind)


def _event_for(inbox: InboxRecord, item: normalizer.MessengerItem) -> Event:
    external_contact = contact_external_id(item.page_id, item.psid)
    if item.kind == "handover":
        assert item.action is not None and item.mid is not None
        return InboundHandoverReceived(
            # Deterministic: a redelivered notification is the same event.
            event_id=uuid.uuid5(HANDOVER_EVENT_NAMESPACE, f"{inbox.id}:{item.mid}"),
            occurred_at=item.sent_at,
            tenant_id=inbox.account_id,
            payload=InboundHandoverPayload(
                inbox_id=inbox.id,
                channel=CHANNEL,
                external_contact_id=external_contact,
                action=item.action,
                app_id=item.app_id,
                previous_app_id=item.previous_app_id,
            ),
        )
    if item.kind == "message" and item.csat is not None:
        # A tapped rating of our survey: an answer, not a message (it must not open a new conversation).
        return InboundCsatReceived(
            event_id=uuid.uuid5(HANDOVER_EVENT_NAMESPACE, f"{inbox.id}:csat:{item.mid}"),
            occurred_at=item.sent_at,
            tenant_id=inbox.account_id,
            payload=InboundCsatPayload(
                inbox_id=inbox.id,
                channel=CHANNEL,
                external_contact_id=external_contact,
                conversation_id=item.csat[0],
                rating=item.csat[1],
                answered_at=item.sent_at,
            ),
        )
    if item.kind == "message":
        assert item.mid is not None
        return InboundMessageReceived(
            tenant_id=inbox.account_id,
            payload=InboundMessagePayload(
                inbox_id=inbox.id,
                channel=CHANNEL,
                external_contact_id=external_contact,
                external_message_id=item.mid,
                text=item.text,
                attachments=[
                    Attachment(name=a.name, content_type=_content_type(a.kind), url=a.url, external_id=a.kind)
                    for a in item.attachments
                ],
                sent_at=item.sent_at,
            ),
        )
    assert item.kind in ("delivered", "read")
    return InboundReceiptReceived(
        tenant_id=inbox.account_id,
        payload=InboundReceiptPayload(
            inbox_id=inbox.id,
            channel=CHANNEL,
            external_contact_id=external_contact,
            status=item.kind,
            external_message_ids=item.mids,
            watermark=item.watermark,
        ),
    )


@router.get(
    "/webhooks/messenger",
    summary="Messenger webhook verification",
    response_model=None,
    responses={
        200: {"description": "hub.challenge, echoed", "content": {"text/plain": {"schema": {"type": "string"}}}},
        **errors(forbidden="verification_failed: hub.mode or hub.verify_token does not match"),
    },
)
async def verify_messenger_webhook(
    request: Request,
    mode: str | None = Query(default=None, alias="hub.mode"),
    token: str | None = Query(default=None, alias="hub.verify_token"),
    challenge: str | None = Query(default=None, alias="hub.challenge", max_length=200),
) -> PlainTextResponse:
    expected = request.app.state.settings.messenger_verify_token
    if (
        mode == "subscribe"
        and expected
        and token is not None
        and hmac.compare_digest(token.encode(), expected.encode())
        and challenge is not None
    ):
        return PlainTextResponse(challenge)
    raise AppError(403, "verification_failed", "hub.mode or hub.verify_token does not match")


@router.post(
    "/webhooks/messenger",
    summary="Messenger webhook events",
    responses=errors(
        bad_request="malformed_json or malformed_payload",
        unauthorized="invalid_signature",
        not_found="messenger_not_configured: this deployment has no Messenger app",
        unavailable="not accepted (Messenger retries)",
    ),
    openapi_extra=raw_body(
        {"type": "object", "description": 'A Messenger Platform webhook body (object "page")'},
        headers={"X-Hub-Signature-256": "sha256= + hex HMAC-SHA256 of the body with the app secret"},
    ),
)
async def messenger_webhook(request: Request) -> JSONResponse:
    timer = AckTimer(CHANNEL)
    res: Resources = request.app.state.resources
    secret = request.app.state.settings.messenger_app_secret
    body = await request.body()
    signature = request.headers.get("X-Hub-Signature-256")
    if not secret and signature:  # unsigned requests are 401 below either way
        timer.done("not_configured")
        # An integration this deployment has not set up is not there (404); a 5xx would say we failed.
        raise AppError(404, "messenger_not_configured", "this deployment has no Messenger app (MESSENGER_APP_SECRET)")
    if not secret or not normalizer.verify_signature(secret, body, signature):
        metrics.SIGNATURE_FAILURES.labels(CHANNEL).inc()
        log.warning("webhook_signature_rejected", channel=CHANNEL, size=len(body))
        timer.done("invalid_signature")
        raise AppError(401, "invalid_signature", "X-Hub-Signature-256 does not match the body")
    try:
        parsed = json.loads(body)
    except ValueError:
        timer.done("malformed")
        raise AppError(400, "malformed_json", "body is not valid JSON") from None
    if not normalizer.is_page_body(parsed):
        timer.done("malformed")
        raise AppError(400, "malformed_payload", 'body is not a Messenger "page" webhook')
    directory: InboxDirectory = request.app.state.inboxes
    events: list[Event] = []
    remember: dict[uuid.UUID, list[str]] = {}
    last_inbound: dict[str, float] = {}
    for item in normalizer.normalize(parsed):
        inbox = await directory.messenger_page(item.page_id)
        if inbox is None:
            continue  # a page of this app that no inbox serves: acknowledged, not stored
        if (item.standby or item.kind == "handover") and not uses_handover(inbox.settings):
            continue  # another app's thread on a page that does not share threads with us: not ours
        scope = inbox.id
        if item.kind in ("message", "handover"):
            assert item.mid is not None
            if item.mid in remember.get(scope, []) or await seen(res, scope, [item.mid]):
                continue
            remember.setdefault(scope, []).append(item.mid)
        if item.kind == "message":
            key = last_inbound_key(res, inbox.id, item.psid)
            last_inbound[key] = max(last_inbound.get(key, 0.0), item.sent_at.timestamp())
        events.append(_event_for(inbox, item))
    try:
        if last_inbound:
            # Before publishing: the bot's reply to this message must find the window open.
            async with res.redis.pipeline(transaction=False) as pipe:
                for key, at in last_inbound.items():
                    pipe.set(key, str(at), ex=LAST_INBOUND_TTL_SECONDS)
                await pipe.execute()
        if events:
            await res.bus.publish_many(events)
        for scope, mids in remember.items():
            await publish_and_remember(res, scope, [], mids)
    except Exception as exc:
        timer.done("unavailable")
        raise AppError(503, "unavailable", "not accepted; Messenger will retry") from exc
    timer.done("accepted" if events else "ignored")
    return JSONResponse({"ok": True, "accepted": len(events)})
