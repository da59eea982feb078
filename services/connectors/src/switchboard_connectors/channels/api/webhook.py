"""The API channel: any back end posts signed messages in, and gets agent replies called back.

Inbound ``POST /webhooks/api/{inbox_id}`` is verified (HMAC over ``"{timestamp}.{raw body}"``, five-minute
window, constant-time compare), normalized and published before the 2xx; ``message.id`` is deduplicated.
Outbound replies become signed POSTs to the inbox's ``callback_url`` through the delivery queue.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Discriminator, Field, RootModel, Tag, ValidationError, model_validator
from switchboard_common.domain.conversations.ingest import message_id_for
from switchboard_common.domain.events import (
    Attachment,
    InboundCsatPayload,
    InboundCsatReceived,
    InboundMessagePayload,
    InboundMessageReceived,
)
from switchboard_common.infra import metrics, signing
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.inputs import Email, HttpUrl, Name, integer, text
from switchboard_common.infra.openapi import errors, raw_body
from switchboard_common.infra.runtime import Resources
from switchboard_common.infra.schemas import Strict

from switchboard_connectors.ingress import AckTimer, InboxDirectory, publish_and_remember, seen

log = structlog.get_logger(__name__)
router = APIRouter(tags=["webhooks"])
ExternalId = Annotated[str, text(255)]
FileName = Annotated[str, text(255)]
ContentType = Annotated[str, text(100)]
MessageText = Annotated[str, text(10000)]
Size = Annotated[int, integer(0, 2**53)]
Rating = Annotated[int, integer(1, 5)]
CsatComment = Annotated[str, text(2000, min_length=0, visible=False)]


class ApiContact(Strict):
    # The contact's id in your system: messages with the same one are the same person.
    external_id: ExternalId
    name: Name | None = None
    email: Email | None = None


class ApiAttachment(Strict):
    url: HttpUrl
    name: FileName | None = None
    content_type: ContentType | None = None
    size: Size | None = None


class ApiMessage(Strict):
    """Text, attachments or both (at least one)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["text"], "properties": {"text": {"type": "string"}}},
                {"required": ["attachments"], "properties": {"attachments": {"minItems": 1}}},
            ]
        }
    )

    # Your id for the message: a retry with the same id is accepted once.
    id: ExternalId
    text: MessageText | None = None
    attachments: list[ApiAttachment] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _has_content(self) -> ApiMessage:
        if self.text is None and not self.attachments:
            raise ValueError("a message needs text or attachments")
        return self


class ApiCsat(Strict):
    """The customer's answer to a ``csat.requested`` callback."""

    conversation_id: uuid.UUID
    rating: Rating
    comment: CsatComment | None = None


class ApiMessageIn(Strict):
    """A customer's message."""

    contact: ApiContact
    message: ApiMessage


class ApiCsatIn(Strict):
    """A customer's satisfaction rating."""

    contact: ApiContact
    csat: ApiCsat


def _kind(value: Any) -> str | None:
    """Which body this is: the one field of ``message`` and ``csat`` it has (None: neither or both)."""
    if isinstance(value, dict):
        present = [name for name in ("message", "csat") if name in value]
    else:
        present = ["message"] if isinstance(value, ApiMessageIn) else ["csat"] if isinstance(value, ApiCsatIn) else []
    return present[0] if len(present) == 1 else None


class ApiInbound(
    RootModel[
        Annotated[
            Annotated[ApiMessageIn, Tag("message")] | Annotated[ApiCsatIn, Tag("csat")],
            Discriminator(
                _kind,
                custom_error_type="message_or_csat",
                custom_error_message="give exactly one of message or csat",
            ),
        ]
    ]
):
    """Exactly one of ``message`` and ``csat``, with the contact: the schema's ``oneOf`` of two strict bodies
    (each refusing the other's field) says what validation does, so a generated client cannot build one with
    both or neither."""


class ApiAccepted(BaseModel):
    status: Literal["accepted", "duplicate"]
    message_id: uuid.UUID


def current_secrets(inbox_secrets: dict[str, Any], now: datetime | None = None) -> list[str]:
    """The signing secret, plus the previous one while its rotation overlap lasts."""
    valid = [str(inbox_secrets["signing_secret"])] if inbox_secrets.get("signing_secret") else []
    previous, until = inbox_secrets.get("previous_signing_secret"), inbox_secrets.get("previous_valid_until")
    if previous and until and datetime.fromisoformat(until) > (now or datetime.now(UTC)):
        valid.append(str(previous))
    return valid


def _reject(timer: AckTimer, status: int, code: str, message: str) -> AppError:
    timer.done(code)
    return AppError(status, code, message)


@router.post(
    "/webhooks/api/{inbox_id}",
    status_code=202,
    response_model=ApiAccepted,
    summary="API channel: a signed message from a back end",
    responses={
        200: {"model": ApiAccepted, "description": "A retry of a message already accepted (same id): nothing new"},
        **errors(
            not_found="unknown_inbox: no API inbox with this id",
            unauthorized="stale_timestamp or invalid_signature",
            unavailable="not accepted: retry later",
        ),
    },
    openapi_extra=raw_body(
        ApiInbound,
        headers={
            signing.TIMESTAMP_HEADER: "Unix seconds; within 5 minutes of the server's clock",
            signing.SIGNATURE_HEADER: '"sha256=" + hex HMAC-SHA256 of "{timestamp}.{raw body}" with the inbox secret',
        },
    ),
)
async def receive_api_message(inbox_id: uuid.UUID, request: Request) -> JSONResponse:
    timer = AckTimer("api")
    res: Resources = request.app.state.resources
    directory: InboxDirectory = request.app.state.inboxes
    body = await request.body()
    inbox = await directory.by_id(inbox_id, "api")
    if inbox is None:
        raise _reject(timer, 404, "unknown_inbox", "no API inbox with this id")
    timestamp = request.headers.get(signing.TIMESTAMP_HEADER, "")
    if not signing.timestamp_fresh(timestamp):
        raise _reject(timer, 401, "stale_timestamp", "X-Switchboard-Timestamp is missing or outside 5 minutes")
    if not signing.verify(
        current_secrets(inbox.secrets), timestamp, body, request.headers.get(signing.SIGNATURE_HEADER)
    ):
        metrics.SIGNATURE_FAILURES.labels("api").inc()
        log.warning("webhook_signature_rejected", channel="api", inbox_id=str(inbox_id))
        raise _reject(timer, 401, "invalid_signature", "X-Switchboard-Signature does not match")
    try:
        parsed = ApiInbound.model_validate_json(body).root
    except ValidationError as exc:
        malformed = any(e["type"] == "json_invalid" for e in exc.errors())
        details = [{"loc": list(map(str, e["loc"])), "type": e["type"], "msg": e["msg"]} for e in exc.errors()]
        if malformed:
            raise _reject(timer, 400, "malformed_json", "body is not valid JSON") from None
        timer.done("invalid")
        raise AppError(422, "validation_error", "body is not a valid API channel message", details=details) from None
    if isinstance(parsed, ApiCsatIn):
        return await _accept_csat(res, timer, inbox.account_id, inbox.id, parsed.contact.external_id, parsed.csat)
    message_id = message_id_for(inbox.account_id, f"api:{inbox.id}", parsed.message.id)
    if await seen(res, inbox.id, [parsed.message.id]):
        timer.done("duplicate")
        return JSONResponse({"status": "duplicate", "message_id": str(message_id)}, status_code=200)
    event = InboundMessageReceived(
        tenant_id=inbox.account_id,
        payload=InboundMessagePayload(
            inbox_id=inbox.id,
            channel="api",
            external_contact_id=parsed.contact.external_id,
            contact_name=parsed.contact.name,
            contact_email=str(parsed.contact.email) if parsed.contact.email else None,
            external_message_id=parsed.message.id,
            text=parsed.message.text,
            attachments=[
                Attachment(name=a.name or "attachment", content_type=a.content_type, size=a.size, url=str(a.url))
                for a in parsed.message.attachments
            ],
            sent_at=datetime.now(UTC),
        ),
    )
    try:
        await publish_and_remember(res, inbox.id, [event], [parsed.message.id])
    except Exception as exc:
        timer.done("unavailable")
        raise AppError(503, "unavailable", "not accepted; retry later") from exc
    timer.done("accepted")
    return JSONResponse({"status": "accepted", "message_id": str(message_id)}, status_code=202)


async def _accept_csat(
    res: Resources, timer: AckTimer, account_id: uuid.UUID, inbox_id: uuid.UUID, external_id: str, csat: ApiCsat
) -> JSONResponse:
    """A rating for a conversation of this contact: published, then recorded by the ingest worker."""
    event = InboundCsatReceived(
        tenant_id=account_id,
        payload=InboundCsatPayload(
            inbox_id=inbox_id,
            channel="api",
            external_contact_id=external_id,
            conversation_id=csat.conversation_id,
            rating=csat.rating,
            comment=csat.comment,
            answered_at=datetime.now(UTC),
        ),
    )
    try:
        await res.bus.publish(event)
    except Exception as exc:
        timer.done("unavailable")
        raise AppError(503, "unavailable", "not accepted; retry later") from exc
    timer.done("accepted")
    return JSONResponse({"status": "accepted", "conversation_id": str(csat.conversation_id)}, status_code=202)
