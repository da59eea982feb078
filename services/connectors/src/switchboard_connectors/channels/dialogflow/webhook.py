"""``POST /webhooks/dialogflow``: the fulfillment webhook (ES v2 ``WebhookRequest`` -> ``WebhookResponse``,
and CX ``WebhookRequest`` -> ``fulfillmentResponse``), HTTP basic auth, answered well inside 5 seconds.

The session id is our conversation id (the bot worker sets it so). The webhook can:
* hand the conversation off to humans: ES action or CX tag equal to the bot's ``handoff_tag``, or an ES
  intent named in ``handoff_intents``;
* answer from conversation data: ES action / CX tag equal to ``status_tag`` -> its status and queue position.
Anything else gets an empty (valid) response, so the agent's own responses are used.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from switchboard_common.domain.accounts.tenancy import CROSS_TENANT_OPTION, cross_tenant, scope_session
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.inboxes.bot_config import BotSettings, decrypt_credentials
from switchboard_common.domain.inboxes.models import InboxBot
from switchboard_common.infra import metrics
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import BASIC_AUTH, errors, raw_body
from switchboard_common.infra.runtime import Resources

from switchboard_connectors.channels.dialogflow.bot import hand_off
from switchboard_connectors.ingress import AckTimer
from switchboard_connectors.payload_fields import object_field

log = structlog.get_logger(__name__)
router = APIRouter(tags=["webhooks"])

# Dialogflow gives up after 5 s: answer empty well before rather than late.
ANSWER_BUDGET_SECONDS = 3.5
SESSION_RE = re.compile(
    r"^projects/([^/]+)/(?:locations/[^/]+/)?agents?(?:/[^/]+)?(?:/environments/[^/]+/users/[^/]+)?/sessions/([^/]+)$"
)


@dataclass(frozen=True)
class FulfillmentRequest:
    cx: bool
    project_id: str
    session_id: str
    tag: str | None  # ES: queryResult.action; CX: fulfillmentInfo.tag
    intent: str | None


def parse_request(body: Any) -> FulfillmentRequest | None:
    """An ES or CX WebhookRequest, or None when it is neither (never raises)."""
    if not isinstance(body, dict):
        return None
    session_info = body.get("sessionInfo")
    cx = isinstance(session_info, dict)
    session = session_info.get("session") if isinstance(session_info, dict) else body.get("session")
    match = SESSION_RE.match(session) if isinstance(session, str) and len(session) <= 500 else None
    if match is None:
        return None
    if cx:
        fulfillment = object_field(body, "fulfillmentInfo")
        intent_info = object_field(body, "intentInfo")
        tag, intent = fulfillment.get("tag"), intent_info.get("displayName")
    else:
        result = object_field(body, "queryResult")
        intent_obj = object_field(result, "intent")
        tag, intent = result.get("action"), intent_obj.get("displayName")
    return FulfillmentRequest(
        cx=cx,
        project_id=match.group(1),
        session_id=match.group(2),
        tag=tag if isinstance(tag, str) else None,
        intent=intent if isinstance(intent, str) else None,
    )


def response_body(request: FulfillmentRequest, text: str | None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    if text is None:
        return {}
    if request.cx:
        body: dict[str, Any] = {"fulfillmentResponse": {"messages": [{"text": {"text": [text]}}]}}
        if extra:
            body["sessionInfo"] = {"parameters": extra}
        return body
    body = {"fulfillmentText": text, "fulfillmentMessages": [{"text": {"text": [text]}}], "source": "switchboard"}
    if extra:
        body["payload"] = {"switchboard": extra}
    return body


def authorized(header: str | None, user: str, password: str) -> bool:
    if not header or not header.startswith("Basic "):
        return False
    try:
        given_user, _, given_password = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    # Both compared, always: the time taken says nothing about which one was wrong.
    user_ok = hmac.compare_digest(given_user.encode(), user.encode())
    password_ok = hmac.compare_digest(given_password.encode(), password.encode())
    return user_ok and password_ok


async def _answer(res: Resources, request: FulfillmentRequest, inbox_id: uuid.UUID | None) -> dict[str, Any]:
    """``inbox_id``: the inbox the call was authenticated for (its own URL); None for the shared URL."""
    try:
        conversation_id = uuid.UUID(request.session_id)
    except ValueError:
        return {}
    async with res.sessionmaker() as session:
        # The lookup that finds the account: by the session Dialogflow names (the project is checked next).
        query = cross_tenant(
            select(Conversation, InboxBot)
            .join(InboxBot, InboxBot.inbox_id == Conversation.inbox_id)
            .where(Conversation.id == conversation_id)
        )
        if inbox_id is not None:
            # Bound to the inbox that owns the session: another inbox's credentials reach none of its conversations.
            query = query.where(Conversation.inbox_id == inbox_id)
        row = (await session.execute(query)).first()
        if row is None:
            return {}
        conversation, bot = row
        scope_session(session, conversation.account_id)
        settings = BotSettings.model_validate(bot.settings)
        if inbox_id is None and settings.fulfillment_credentials:
            return {}  # an inbox with its own fulfillment password is served only at its own URL, with it
        if settings.project_id != request.project_id:
            return {}  # another tenant's project cannot reach this conversation
        if request.tag == settings.status_tag:
            position = None
            if conversation.status == "open" and conversation.assignee_id is None:
                position = 1 + int(
                    await session.scalar(
                        select(func.count())
                        .select_from(Conversation)
                        .where(
                            Conversation.status == "open",
                            Conversation.assignee_id.is_(None),
                            Conversation.created_at < conversation.created_at,
                        )
                    )
                    or 0
                )
            facts = {"status": conversation.status, "queue_position": position}
            text = (
                f"You are number {position} in the queue."
                if position
                else ("An agent is with you." if conversation.assignee_id else f"Status: {conversation.status}.")
            )
            return response_body(request, text, facts)
    if request.tag == settings.handoff_tag or (
        request.intent is not None and request.intent in settings.handoff_intents
    ):
        params = {**settings.handoff_routing, "language": settings.language_code.split("-")[0].lower()}
        if request.intent:
            params["intent"] = request.intent
        # Shielded: once the status changed, the event must go out even if the answer budget runs out.
        await asyncio.shield(hand_off(res, conversation.account_id, conversation.id, "fulfillment_handoff", params))
        return response_body(request, "Connecting you to an agent.", {"handoff": True})
    return {}


def _unauthorized(timer: AckTimer) -> JSONResponse:
    metrics.SIGNATURE_FAILURES.labels("dialogflow").inc()
    log.warning("webhook_auth_rejected", channel="dialogflow")
    timer.done("unauthorized")
    return JSONResponse(
        {"error": {"code": "unauthorized", "message": "basic credentials do not match"}},
        status_code=401,
        headers={"WWW-Authenticate": 'Basic realm="dialogflow"'},
    )


async def _fulfill(request: Request, timer: AckTimer, inbox_id: uuid.UUID | None) -> JSONResponse:
    res: Resources = request.app.state.resources
    try:
        body = json.loads(await request.body())
    except ValueError:
        timer.done("malformed")
        raise AppError(400, "malformed_json", "body is not valid JSON") from None
    parsed = parse_request(body)
    if parsed is None:
        timer.done("malformed")
        raise AppError(400, "malformed_payload", "body is not a Dialogflow WebhookRequest")
    try:
        answer = await asyncio.wait_for(_answer(res, parsed, inbox_id), ANSWER_BUDGET_SECONDS)
    except TimeoutError:
        log.warning("dialogflow_fulfillment_slow")
        answer = {}
    timer.done("answered")
    return JSONResponse(answer)


def _installation_credentials(request: Request, timer: AckTimer) -> tuple[str, str] | None:
    """DIALOGFLOW_WEBHOOK_USER/PASSWORD; None when unset and the request brings no credentials (a 401 either way)."""
    settings = request.app.state.settings
    if settings.dialogflow_webhook_user and settings.dialogflow_webhook_password:
        return settings.dialogflow_webhook_user, settings.dialogflow_webhook_password
    if request.headers.get("Authorization"):
        timer.done("not_configured")
        # An integration this deployment has not set up is not there (404); a 5xx would say we failed.
        raise AppError(
            404, "dialogflow_not_configured", "this deployment has no Dialogflow webhook (DIALOGFLOW_WEBHOOK_USER)"
        )
    return None


_FULFILLMENT_ERRORS = errors(
    bad_request="malformed_json or malformed_payload",
    unauthorized="the basic credentials do not match",
    not_found="dialogflow_not_configured: this deployment has no Dialogflow webhook",
)
# Basic credentials: DIALOGFLOW_WEBHOOK_USER and DIALOGFLOW_WEBHOOK_PASSWORD, or the inbox id and its own password.
_FULFILLMENT_REQUEST = {
    **raw_body({"type": "object", "description": "A Dialogflow ES or CX WebhookRequest"}),
    "security": [{BASIC_AUTH: []}],
}


@router.post(
    "/webhooks/dialogflow",
    summary="Dialogflow fulfillment webhook (ES v2 and CX), shared URL",
    responses=_FULFILLMENT_ERRORS,
    openapi_extra=_FULFILLMENT_REQUEST,
)
async def dialogflow_fulfillment(request: Request) -> JSONResponse:
    """The installation's credentials; serves inboxes without a fulfillment password of their own."""
    timer = AckTimer("dialogflow")
    credentials = _installation_credentials(request, timer)
    if credentials is None or not authorized(request.headers.get("Authorization"), *credentials):
        return _unauthorized(timer)
    return await _fulfill(request, timer, None)


@router.post(
    "/webhooks/dialogflow/{inbox_id}",
    summary="Dialogflow fulfillment webhook of one inbox",
    responses=_FULFILLMENT_ERRORS,
    openapi_extra=_FULFILLMENT_REQUEST,
)
async def dialogflow_inbox_fulfillment(inbox_id: uuid.UUID, request: Request) -> JSONResponse:
    """Bound to the inbox: only sessions of its conversations are answered. Basic auth with the inbox id and the
    inbox's own fulfillment password when it has one, else the installation's credentials."""
    timer = AckTimer("dialogflow")
    res: Resources = request.app.state.resources
    async with res.sessionmaker() as session:
        # The lookup that finds the account: by the inbox the URL names, before any credential is checked.
        bot = await session.get(InboxBot, inbox_id, execution_options={CROSS_TENANT_OPTION: True})
    own = bot is not None and BotSettings.model_validate(bot.settings).fulfillment_credentials
    if bot is not None and own:
        secrets = decrypt_credentials(res.keyring, inbox_id, bot.secrets_encrypted)
        user, password = str(inbox_id), secrets["fulfillment_password"]
    else:
        user, password = _installation_credentials(request, timer) or ("", "")
    # An inbox without a bot is answered like a wrong password (the URL does not confirm which inboxes exist).
    if bot is None or not password or not authorized(request.headers.get("Authorization"), user, password):
        return _unauthorized(timer)
    return await _fulfill(request, timer, inbox_id)
