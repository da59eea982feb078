from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.inboxes import channel_claims
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.domain.inboxes.secrets import decrypt_secrets, encrypt_secrets
from switchboard_common.infra.crypto import Keyring
from switchboard_common.infra.directory import Directory
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.settings import CommonSettings

from switchboard_gateway.inboxes import ownership
from switchboard_gateway.inboxes.schemas import CHANNEL_SETTINGS, SECRET_FIELDS


def split_settings(channel: str, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validates channel settings and splits them into (public, secret)."""
    try:
        parsed = CHANNEL_SETTINGS[channel].model_validate(raw)
    except ValidationError as exc:
        details = [{"loc": ["settings", *map(str, e["loc"])], "type": e["type"], "msg": e["msg"]} for e in exc.errors()]
        if all(e["type"] == "extra_forbidden" for e in exc.errors()):
            # Settings of another channel: valid by the schema (which cannot know this inbox's channel).
            raise AppError(
                409, "settings_not_for_channel", f"these settings are not a {channel} inbox's", details=details
            ) from None
        raise AppError(422, "validation_error", f"invalid settings for a {channel} inbox", details=details) from None
    values = parsed.model_dump(mode="json")
    secret_names = SECRET_FIELDS[channel]
    return (
        {k: v for k, v in values.items() if k not in secret_names},
        {k: v for k, v in values.items() if k in secret_names},
    )


async def check_mirror_target(session: AsyncSession, public: dict[str, Any]) -> None:
    target = public.get("slack_mirror_inbox_id")
    if target is None:
        return
    found = await session.scalar(select(Inbox.id).where(Inbox.id == uuid.UUID(str(target)), Inbox.channel == "slack"))
    if found is None:
        raise AppError(409, "invalid_mirror_inbox", "slack_mirror_inbox_id must be a Slack inbox of this account")


async def create_inbox(
    session: AsyncSession,
    keyring: Keyring,
    *,
    account_id: uuid.UUID,
    name: str,
    channel: str,
    settings: dict[str, Any],
    directory: Directory | None = None,
) -> tuple[Inbox, str | None]:
    public, secret_values = split_settings(channel, settings)
    await check_mirror_target(session, public)
    inbox_id = uuid.uuid4()
    shown_secret: str | None = None
    if channel == "api":
        shown_secret = secrets.token_urlsafe(32)
        secret_values["signing_secret"] = shown_secret
    inbox = Inbox(
        id=inbox_id,
        account_id=account_id,
        name=name,
        channel=channel,
        settings=public,
        routing={},
        # With several regions the widget token names its region ("eu.…"), so a visitor reaching another
        # region is relayed to this one without a directory lookup.
        widget_token=tag_token(directory, secrets.token_urlsafe(24)) if channel == "web" else None,
        secrets_encrypted=encrypt_secrets(keyring, inbox_id, secret_values),
    )
    session.add(inbox)
    await session.flush()
    await channel_claims.sync(session, inbox, directory)
    return inbox, shown_secret


def tag_token(directory: Directory | None, token: str) -> str:
    return f"{directory.region}.{token}" if directory is not None and directory.enabled else token


async def get_inbox(session: AsyncSession, inbox_id: uuid.UUID) -> Inbox:
    inbox = await session.scalar(select(Inbox).where(Inbox.id == inbox_id))
    if inbox is None:
        raise AppError(404, "not_found", "inbox not found")
    return inbox


ROTATION_OVERLAP = timedelta(hours=24)


def merged_settings(keyring: Keyring, inbox: Inbox, settings: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The inbox's settings after an update, validated and split into (public, secret)."""
    stored_secrets = decrypt_secrets(keyring, inbox.id, inbox.secrets_encrypted)
    secret_names = SECRET_FIELDS[inbox.channel]
    # Secret fields may be omitted on update: the stored ones are kept.
    merged = {
        **dict(inbox.settings or {}),
        **{k: v for k, v in stored_secrets.items() if k in secret_names},
        **settings,
    }
    return split_settings(inbox.channel, merged)


async def check_channel(
    session: AsyncSession,
    settings: CommonSettings,
    *,
    account_id: uuid.UUID,
    inbox: Inbox | None,
    channel: str,
    public: dict[str, Any],
    secret_values: dict[str, Any],
    keyring: Keyring,
) -> None:
    """Before connecting a page or workspace (on create, and on update when the identity or its token
    changes): 409 when it is connected elsewhere, then the platform must confirm the token belongs to it."""
    claims = channel_claims.claims_for(channel, public)
    if not claims:
        return
    if inbox is not None:
        before = channel_claims.claims_for(channel, dict(inbox.settings or {}))
        stored = decrypt_secrets(keyring, inbox.id, inbox.secrets_encrypted)
        unchanged = before == claims and all(stored.get(k) == secret_values.get(k) for k in SECRET_FIELDS[channel])
        if unchanged:
            return
    await channel_claims.check_free(session, account_id, inbox.id if inbox else None, claims)
    await session.rollback()  # no transaction held while the platform answers
    await ownership.prove(settings, channel, public, secret_values)


async def update_inbox(
    session: AsyncSession,
    keyring: Keyring,
    inbox: Inbox,
    *,
    name: str | None,
    settings: dict[str, Any] | None,
    directory: Directory | None = None,
) -> None:
    """``name`` and ``settings`` None: unchanged. ``settings`` are merged into the current ones."""
    if name is not None:
        inbox.name = name
    if settings is None:
        return
    stored_secrets = decrypt_secrets(keyring, inbox.id, inbox.secrets_encrypted)
    secret_names = SECRET_FIELDS[inbox.channel]
    public, new_secrets = merged_settings(keyring, inbox, settings)
    await check_mirror_target(session, public)
    inbox.settings = public
    kept = {k: v for k, v in stored_secrets.items() if k not in secret_names}
    inbox.secrets_encrypted = encrypt_secrets(keyring, inbox.id, {**kept, **new_secrets})
    await session.flush()
    await channel_claims.sync(session, inbox, directory)


def rotate_signing_secret(keyring: Keyring, inbox: Inbox, now: datetime) -> tuple[str, datetime]:
    """A new signing secret; the old one keeps verifying inbound calls during the overlap."""
    stored = decrypt_secrets(keyring, inbox.id, inbox.secrets_encrypted)
    new_secret = secrets.token_urlsafe(32)
    until = now + ROTATION_OVERLAP
    stored.update(
        {
            "previous_signing_secret": stored.get("signing_secret"),
            "previous_valid_until": until.isoformat(),
            "signing_secret": new_secret,
        }
    )
    inbox.secrets_encrypted = encrypt_secrets(keyring, inbox.id, stored)
    return new_secret, until
