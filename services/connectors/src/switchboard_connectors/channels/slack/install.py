"""Installing the Slack app with OAuth v2.

``GET /api/v1/integrations/slack/install`` (an admin) answers the authorize URL with a signed, expiring,
single-use ``state`` bound to the admin's account; Slack redirects the installer to
``GET /api/v1/integrations/slack/callback?code&state``, which exchanges the code at ``oauth.v2.access`` and
stores only the team id, the channel id, the bot user id (to recognize our own posts), the bot token
(encrypted, bound to the inbox row) and the installer's Slack e-mail, name and avatar.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from switchboard_common.domain.accounts.auth import AdminAgent, ResourcesDep
from switchboard_common.domain.accounts.tenancy import tenant_session
from switchboard_common.domain.inboxes import channel_claims
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.domain.inboxes.secrets import decrypt_secrets, encrypt_secrets
from switchboard_common.infra import tokens
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.inputs import VISIBLE_TEXT
from switchboard_common.infra.openapi import errors
from switchboard_common.infra.runtime import Resources

from switchboard_connectors.channels.slack.client import SlackApi, SlackError, SlackUnavailable
from switchboard_connectors.payload_fields import object_field
from switchboard_connectors.settings import ConnectorSettings

install_router = APIRouter(prefix="/api/v1/integrations/slack", tags=["integrations"])

STATE_TTL_SECONDS = 600


class InstallLink(BaseModel):
    authorize_url: str


@install_router.get(
    "/install",
    response_model=InstallLink,
    summary="Start the Slack OAuth v2 install",
    responses=errors(not_found="slack_not_configured: this deployment has no Slack app (SLACK_CLIENT_ID)"),
)
async def slack_install(
    admin: AdminAgent,
    resources: ResourcesDep,
    request: Request,
    channel_id: str | None = Query(default=None, max_length=32, pattern=r"^[A-Z0-9]+$"),
    name: str = Query(default="Slack", min_length=1, max_length=200, pattern=VISIBLE_TEXT),
) -> InstallLink:
    settings: ConnectorSettings = request.app.state.settings
    if not settings.slack_client_id:
        # An integration this deployment has not set up is not there (404); a 5xx would say we failed.
        raise AppError(404, "slack_not_configured", "this deployment has no Slack app (SLACK_CLIENT_ID)")
    # The state is a short-lived signed token: it binds the callback to this admin's account (CSRF).
    state = tokens.issue(
        resources.settings.secret_key,
        kind="oauth_state",
        subject=admin.user_id,
        account_id=admin.account_id,
        ttl_seconds=STATE_TTL_SECONDS,
    )
    # Single use: the callback consumes this record (and reads the admin's choices from it).
    pending = {"channel_id": channel_id or "", "name": name}
    state_id = tokens.decode(resources.settings.secret_key, state).token_id
    # The account's pending installs (a hash: state id -> choices), so the account's purge finds them.
    pending_key = resources.keys.slack_installs(admin.account_id)
    async with resources.redis.pipeline(transaction=True) as pipe:
        pipe.hset(pending_key, state_id, json.dumps(pending))
        pipe.expire(pending_key, STATE_TTL_SECONDS)
        await pipe.execute()
    query = urlencode(
        {
            "client_id": settings.slack_client_id,
            "scope": settings.slack_scopes,
            "state": state,
            "redirect_uri": f"{settings.public_url}/api/v1/integrations/slack/callback",
        }
    )
    return InstallLink(authorize_url=f"{settings.slack_authorize_url}?{query}")


class InstalledInbox(BaseModel):
    inbox_id: uuid.UUID
    team_id: str
    channel_id: str
    installer: dict[str, str | None] = Field(default_factory=dict)


@install_router.get(
    "/callback",
    response_model=InstalledInbox,
    summary="Slack OAuth v2 redirect target",
    responses=errors(
        forbidden="invalid_state: the install link expired, was used, or is forged",
        unprocessable="channel_required: choose a channel (channel_id) for this Slack inbox",
        bad_gateway="slack_install_failed: Slack refused the install",
        unavailable="slack_unavailable: Slack did not answer",
    ),
)
async def slack_callback(
    request: Request, code: str = Query(min_length=1, max_length=500), state: str = Query(min_length=1, max_length=2000)
) -> InstalledInbox:
    res: Resources = request.app.state.resources
    settings: ConnectorSettings = request.app.state.settings
    try:
        claims = tokens.decode(res.settings.secret_key, state)
    except tokens.InvalidToken:
        raise AppError(403, "invalid_state", "install link expired or forged; start again") from None
    pending_key = res.keys.slack_installs(claims.account_id)
    async with res.redis.pipeline(transaction=True) as pipe:
        pipe.hget(pending_key, claims.token_id)
        pipe.hdel(pending_key, claims.token_id)
        pending_raw, _ = await pipe.execute()
    if not pending_raw or claims.kind != "oauth_state":
        raise AppError(403, "invalid_state", "install link already used or unknown")
    pending = json.loads(pending_raw)
    api: SlackApi = request.app.state.slack_api
    redirect_uri = f"{settings.public_url}/api/v1/integrations/slack/callback"
    try:
        access = await api.call(
            "oauth.v2.access",
            form={
                "code": code,
                "client_id": settings.slack_client_id,
                "client_secret": settings.slack_client_secret,
                "redirect_uri": redirect_uri,
            },
        )
        bot_token = access.get("access_token")
        team = access.get("team")
        team_id = str(team.get("id") or "") if isinstance(team, dict) else ""
        if not isinstance(bot_token, str) or not bot_token or not team_id:
            raise SlackError("unexpected_response")
        authed = access.get("authed_user")
        installer_id = authed.get("id") if isinstance(authed, dict) else None
        profile = await _installer_profile(api, bot_token, installer_id) if isinstance(installer_id, str) else {}
    except SlackError as exc:
        raise AppError(502, "slack_install_failed", f"Slack refused the install: {exc.error}") from None
    except SlackUnavailable:
        raise AppError(503, "slack_unavailable", "Slack did not answer; start the install again") from None
    hook = access.get("incoming_webhook")
    channel_id = pending.get("channel_id") or (str(hook.get("channel_id") or "") if isinstance(hook, dict) else "")
    if not channel_id:
        raise AppError(422, "channel_required", "choose a channel (channel_id) for this Slack inbox")
    bot_user_id = access.get("bot_user_id")
    # Only what the product needs: team, channel, our bot's user id (to ignore our own posts), the bot token
    # (encrypted) and the installer's profile. A reinstall of the same team updates its inbox.
    settings_out: dict[str, Any] = {
        "team_id": team_id,
        "channel_id": channel_id,
        "bot_user_id": bot_user_id if isinstance(bot_user_id, str) else None,
        "installer": profile,
    }
    async with tenant_session(res.sessionmaker, claims.account_id, begin=True) as session:
        inbox = await session.scalar(
            select(Inbox).where(
                Inbox.channel == "slack",
                Inbox.settings["team_id"].astext == team_id,
            )
        )
        if inbox is None:
            inbox = Inbox(
                id=uuid.uuid4(), account_id=claims.account_id, name=pending.get("name") or "Slack", channel="slack"
            )
            inbox.routing = {}
            session.add(inbox)
        stored = decrypt_secrets(res.keyring, inbox.id, inbox.secrets_encrypted)
        inbox.settings = {
            **{k: v for k, v in (inbox.settings or {}).items() if k == "slack_mirror_inbox_id"},
            **settings_out,
        }
        inbox.secrets_encrypted = encrypt_secrets(res.keyring, inbox.id, {**stored, "bot_token": bot_token})
        await session.flush()
        # Slack named the team, which proves the install; but a workspace or channel another account (or
        # inbox) already connected stays theirs: 409 channel_already_connected, and nothing is written.
        await channel_claims.sync(session, inbox, res.directory)
        inbox_id = inbox.id
    request.app.state.inboxes.forget(inbox_id)
    return InstalledInbox(inbox_id=inbox_id, team_id=team_id, channel_id=channel_id, installer=profile)


async def _installer_profile(api: SlackApi, bot_token: str, user_id: str) -> dict[str, Any]:
    """The installer's e-mail, name and avatar (``users.info``; e-mail needs ``users:read.email``)."""
    user = (await api.call("users.info", token=bot_token, form={"user": user_id})).get("user")
    user = user if isinstance(user, dict) else {}
    raw = object_field(user, "profile")
    return {
        "email": raw.get("email"),
        "name": raw.get("real_name") or user.get("name"),
        "avatar": raw.get("image_72"),
    }
