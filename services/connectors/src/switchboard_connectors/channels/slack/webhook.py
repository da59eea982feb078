"""``POST /webhooks/slack/events``: Slack's Events API request URL.

The ack path verifies (v0 signature over the raw bytes, 5-minute window), normalizes and publishes; nothing
slow runs here (file downloads happen after, from Kafka). A 2xx means the events are on Kafka; the
``event_id`` is remembered (per installation) only after that, so a retry of a failed attempt publishes again.

Both of Slack's roles meet here:

* **customer channel**: messages in the installed channel or DMs to the app become ``inbound.message_received``;
* **agents' workspace**: a human's reply in the thread of a mirrored conversation (see ``slack_mirror``) is an
  agent reply, published as an outbound ``message.created`` on the customer's own channel.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from switchboard_common.domain.accounts.tenancy import tenant_session
from switchboard_common.domain.conversations.ingest import MESSAGE_ID_NAMESPACE, message_id_for
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.csat.surveys import CSAT_NAMESPACE, parse_choice
from switchboard_common.domain.events import (
    Attachment,
    Event,
    InboundCsatPayload,
    InboundCsatReceived,
    InboundMessagePayload,
    InboundMessageReceived,
    MessageCreated,
    MessageCreatedPayload,
    utcnow,
)
from switchboard_common.domain.inboxes.models import Inbox, SlackMirrorMessage
from switchboard_common.infra import metrics
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import errors, raw_body
from switchboard_common.infra.runtime import Resources

from switchboard_connectors.channels.slack import normalizer
from switchboard_connectors.ingress import AckTimer, InboxDirectory, InboxRecord, publish_and_remember, seen
from switchboard_connectors.payload_fields import object_field
from switchboard_connectors.settings import ConnectorSettings

log = structlog.get_logger(__name__)
router = APIRouter(tags=["webhooks"])

WORKSPACE_CACHE_SECONDS = 10.0
_workspace_cache: dict[uuid.UUID, tuple[float, bool]] = {}


def contact_external_id(team_id: str, user: str) -> str:
    """A Slack user is a contact identity per workspace (user ids are only unique within a team)."""
    return f"{team_id}:{user}"


async def _is_workspace(res: Resources, account_id: uuid.UUID, slack_inbox_id: uuid.UUID) -> bool:
    """Whether another inbox mirrors into this Slack inbox: then its channel is the agents' room, not customers'."""
    now = time.monotonic()
    hit = _workspace_cache.get(slack_inbox_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    async with tenant_session(res.sessionmaker, account_id) as session:
        found = await session.scalar(
            select(Inbox.id).where(Inbox.settings["slack_mirror_inbox_id"].astext == str(slack_inbox_id)).limit(1)
        )
    if len(_workspace_cache) > 10_000:
        _workspace_cache.clear()
    _workspace_cache[slack_inbox_id] = (now + WORKSPACE_CACHE_SECONDS, found is not None)
    return found is not None


async def _thread_parent(res: Resources, inbox: InboxRecord, channel: str, thread_ts: str) -> Conversation | None:
    """The mirrored conversation whose parent message is this thread, if any (same account only)."""
    async with tenant_session(res.sessionmaker, inbox.account_id) as session:
        return await session.scalar(
            select(Conversation)
            .join(SlackMirrorMessage, SlackMirrorMessage.conversation_id == Conversation.id)
            .where(
                SlackMirrorMessage.slack_channel_id == channel,
                SlackMirrorMessage.slack_ts == thread_ts,
                SlackMirrorMessage.message_id.is_(None),
            )
        )


def agent_reply_event(conversation: Conversation, action: normalizer.SlackAction) -> MessageCreated:
    """A human's thread reply in Slack, as an agent reply on the customer's channel (deterministic ids)."""
    message_id = message_id_for(conversation.account_id, f"slack-reply:{action.channel}", action.ts)
    return MessageCreated(
        event_id=uuid.uuid5(MESSAGE_ID_NAMESPACE, f"message.created:{message_id}"),
        tenant_id=conversation.account_id,
        conversation_id=conversation.id,
        payload=MessageCreatedPayload(
            message_id=message_id,
            inbox_id=conversation.inbox_id,
            contact_id=conversation.contact_id,
            channel=conversation.channel,
            direction="outbound",
            sender_type="agent",
            sender_id=None,
            text=action.text,
            external_id=f"slack:{action.external_id}",
            created_at=utcnow(),
        ),
    )


def customer_event(inbox: InboxRecord, team_id: str, action: normalizer.SlackAction) -> InboundMessageReceived:
    return InboundMessageReceived(
        tenant_id=inbox.account_id,
        payload=InboundMessagePayload(
            inbox_id=inbox.id,
            channel="slack",
            external_contact_id=contact_external_id(team_id, action.user),
            external_message_id=action.external_id,
            text=action.text,
            kind=action.kind,
            # Metadata only: the files are fetched with the bot token after the ack (slack_files).
            attachments=[
                Attachment(name=f.name, content_type=f.mimetype, size=f.size, url=f.url_private, external_id=f.id)
                for f in action.files
            ],
            sent_at=datetime.now(UTC),
        ),
    )


SIGNED_HEADERS = {
    "X-Slack-Request-Timestamp": "Unix seconds, within 5 minutes",
    "X-Slack-Signature": "v0= + hex HMAC-SHA256 with the app's signing secret",
}
NOT_CONFIGURED = "slack_not_configured: this deployment has no Slack app (a signed request); unsigned requests are 401"
BAD_SIGNATURE = "invalid_signature or stale_timestamp: the Slack signature or its timestamp does not match"


def verify_request(request: Request, body: bytes, settings: ConnectorSettings, timer: AckTimer) -> None:
    """Raises unless ``body`` is signed with this deployment's Slack signing secret (every Slack request URL).

    Without a Slack app a signed request is a 404 (the integration is not there; a 5xx would say we failed,
    and Slack would retry), an unsigned one the 401 any unsigned request gets: the answer to a stranger does
    not depend on the configuration."""
    timestamp = request.headers.get("X-Slack-Request-Timestamp")
    signature = request.headers.get("X-Slack-Signature")
    if not settings.slack_signing_secret and timestamp and signature:
        timer.done("not_configured")
        raise AppError(404, "slack_not_configured", "this deployment has no Slack app (SLACK_SIGNING_SECRET)")
    # Without a secret, a request lacking a header fails verification below (401) whatever it carries.
    problem = normalizer.verify(settings.slack_signing_secret or "", timestamp, body, signature)
    if problem is not None:
        raise _reject_signature(timer, problem)


def _reject_signature(timer: AckTimer, problem: str) -> AppError:
    metrics.SIGNATURE_FAILURES.labels("slack").inc()
    # Never the body: it may hold a customer's words.
    log.warning("webhook_signature_rejected", channel="slack", reason=problem)
    timer.done(problem)
    if problem == "invalid_signature":
        return AppError(401, problem, "X-Slack-Signature does not match the request body")
    return AppError(401, problem, "X-Slack-Request-Timestamp is missing or more than 5 minutes away")


async def _events_for(res: Resources, inbox: InboxRecord, team_id: str, envelope: dict[str, Any]) -> list[Event]:
    workspace: bool | None = None
    events: list[Event] = []
    for action in normalizer.normalize(
        envelope, installed_channel=inbox.settings.get("channel_id"), bot_user_id=inbox.settings.get("bot_user_id")
    ):
        if action.is_thread_reply:
            parent = await _thread_parent(res, inbox, action.channel, str(action.thread_ts))
            if parent is not None:
                # Agents' workspace: new replies are agent replies; their edits and deletions stay in Slack.
                if action.kind == "message" and action.text:
                    events.append(agent_reply_event(parent, action))
                continue
        if action.channel_type != "im":
            if workspace is None:
                workspace = await _is_workspace(res, inbox.account_id, inbox.id)
            if workspace:
                continue  # agents talking among themselves in their channel are not customers
        events.append(customer_event(inbox, team_id, action))
    return events


@router.post(
    "/webhooks/slack/events",
    summary="Slack Events API request URL",
    responses=errors(
        bad_request="malformed_json or malformed_payload",
        unauthorized=BAD_SIGNATURE,
        not_found=NOT_CONFIGURED,
        unavailable="not accepted (Slack retries)",
    ),
    openapi_extra=raw_body(
        {"type": "object", "description": "A Slack Events API envelope (url_verification or event_callback)"},
        headers=SIGNED_HEADERS,
    ),
)
async def slack_events_webhook(request: Request) -> Any:
    timer = AckTimer("slack")
    res: Resources = request.app.state.resources
    settings: ConnectorSettings = request.app.state.settings
    body = await request.body()
    verify_request(request, body, settings, timer)
    try:
        envelope = json.loads(body)
    except ValueError:
        timer.done("malformed")
        raise AppError(400, "malformed_json", "body is not valid JSON") from None
    if not isinstance(envelope, dict):
        timer.done("malformed")
        raise AppError(400, "malformed_payload", "body is not a Slack event envelope (a JSON object)")
    if envelope.get("type") == "url_verification":
        challenge = envelope.get("challenge")
        if not isinstance(challenge, str):
            timer.done("malformed")
            raise AppError(400, "malformed_payload", "url_verification without a challenge")
        timer.done("url_verification")
        return JSONResponse({"challenge": challenge})
    if envelope.get("type") != "event_callback":
        timer.done("ignored")  # app_rate_limited and other envelope types: nothing to store
        return JSONResponse({"ok": True, "ignored": True})
    team_id, event_id = envelope.get("team_id"), envelope.get("event_id")
    if not isinstance(team_id, str) or not team_id or not isinstance(event_id, str) or not event_id:
        timer.done("malformed")
        raise AppError(400, "malformed_payload", "event_callback needs team_id and event_id")
    directory: InboxDirectory = request.app.state.inboxes
    event = envelope.get("event")
    event_channel = event.get("channel") if isinstance(event, dict) else None
    inbox = await directory.slack(team_id, event_channel if isinstance(event_channel, str) else None)
    if inbox is None:
        timer.done("unknown_team")
        return JSONResponse({"ok": True, "ignored": "no inbox for this team"})
    scope = inbox.id
    if await seen(res, scope, [event_id]):
        timer.done("duplicate")
        return JSONResponse({"ok": True, "duplicate": True})
    events = await _events_for(res, inbox, team_id, envelope)
    try:
        await publish_and_remember(res, scope, events, [event_id])
    except Exception as exc:
        timer.done("unavailable")
        log.warning("slack_publish_failed", inbox_id=str(inbox.id), error=type(exc).__name__)
        raise AppError(503, "unavailable", "not accepted; Slack will retry") from exc
    timer.done("accepted" if events else "ignored")
    return JSONResponse({"ok": True, "accepted": len(events)})


def csat_events(inbox: InboxRecord, team_id: str, interaction: dict[str, Any]) -> list[Event]:
    """Our survey's buttons tapped (a ``block_actions`` interaction): one answer per rating button."""
    user = object_field(interaction, "user")
    user_id = user.get("id")
    actions = interaction.get("actions")
    if interaction.get("type") != "block_actions" or not isinstance(user_id, str) or not isinstance(actions, list):
        return []
    events: list[Event] = []
    for action in actions:
        if not isinstance(action, dict):
            continue
        chosen = parse_choice(action.get("value") if isinstance(action.get("value"), str) else None)
        if chosen is None:
            continue
        stamp = str(action.get("action_ts") or interaction.get("trigger_id") or "")
        events.append(
            InboundCsatReceived(
                # A retried interaction is the same answer.
                event_id=uuid.uuid5(CSAT_NAMESPACE, f"slack:{inbox.id}:{user_id}:{stamp}:{chosen[1]}"),
                tenant_id=inbox.account_id,
                payload=InboundCsatPayload(
                    inbox_id=inbox.id,
                    channel="slack",
                    external_contact_id=contact_external_id(team_id, user_id),
                    conversation_id=chosen[0],
                    rating=chosen[1],
                    answered_at=utcnow(),
                ),
            )
        )
    return events


@router.post(
    "/webhooks/slack/interactivity",
    summary="Slack interactivity request URL (survey buttons)",
    responses=errors(
        bad_request="malformed_payload: not a form with a JSON object in payload, or no team",
        unauthorized=BAD_SIGNATURE,
        not_found=NOT_CONFIGURED,
        unavailable="not accepted (Slack shows the user an error; the tap can be repeated)",
    ),
    openapi_extra=raw_body(
        {
            "type": "object",
            "properties": {"payload": {"type": "string", "description": "the interaction, a JSON object"}},
            "required": ["payload"],
        },
        headers=SIGNED_HEADERS,
        media_type="application/x-www-form-urlencoded",
    ),
)
async def slack_interactivity_webhook(request: Request) -> Any:
    """Slack posts ``payload=<JSON>`` form-encoded, signed like events; answered 200 within 3 seconds."""
    timer = AckTimer("slack")
    res: Resources = request.app.state.resources
    settings: ConnectorSettings = request.app.state.settings
    body = await request.body()
    verify_request(request, body, settings, timer)
    try:
        raw = parse_qs(body.decode(), strict_parsing=True).get("payload", [""])[0]
        interaction = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        timer.done("malformed")
        raise AppError(400, "malformed_payload", "body is not a form with a JSON payload field") from None
    if not isinstance(interaction, dict):
        timer.done("malformed")
        raise AppError(400, "malformed_payload", "payload is not a JSON object")
    team = object_field(interaction, "team")
    channel = object_field(interaction, "channel")
    team_id, channel_id = team.get("id"), channel.get("id")
    if not isinstance(team_id, str) or not team_id:
        timer.done("malformed")
        raise AppError(400, "malformed_payload", "the interaction names no team")
    directory: InboxDirectory = request.app.state.inboxes
    inbox = await directory.slack(team_id, channel_id if isinstance(channel_id, str) else None)
    if inbox is None:
        timer.done("unknown_team")
        return JSONResponse({"ok": True, "ignored": "no inbox for this team"})
    events = csat_events(inbox, team_id, interaction)
    try:
        if events:
            await res.bus.publish_many(events)
    except Exception as exc:
        timer.done("unavailable")
        raise AppError(503, "unavailable", "not accepted; try again") from exc
    timer.done("accepted" if events else "ignored")
    return JSONResponse({"ok": True, "accepted": len(events)})
