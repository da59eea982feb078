from __future__ import annotations

import secrets
import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.crypto import Keyring
from switchboard_common.db.models import Inbox
from switchboard_common.errors import AppError

from switchboard_gateway.inboxes.schemas import CHANNEL_SETTINGS, SECRET_FIELDS


def split_settings(channel: str, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validates channel settings and splits them into (public, secret)."""
    try:
        parsed = CHANNEL_SETTINGS[channel].model_validate(raw)
    except ValidationError as exc:
        details = [{"loc": ["settings", *map(str, e["loc"])], "type": e["type"], "msg": e["msg"]} for e in exc.errors()]
        raise AppError(422, "validation_error", f"invalid settings for a {channel} inbox", details=details) from None
    values = parsed.model_dump(mode="json")
    secret_names = SECRET_FIELDS[channel]
    return (
        {k: v for k, v in values.items() if k not in secret_names},
        {k: v for k, v in values.items() if k in secret_names},
    )


def secrets_aad(inbox_id: uuid.UUID) -> bytes:
    # Binds the ciphertext to its inbox: a blob copied to another row does not decrypt.
    return f"inbox:{inbox_id}".encode()


async def create_inbox(
    session: AsyncSession, keyring: Keyring, *, account_id: uuid.UUID, name: str, channel: str, settings: dict[str, Any]
) -> tuple[Inbox, str | None]:
    public, secret_values = split_settings(channel, settings)
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
        widget_token=secrets.token_urlsafe(24) if channel == "web" else None,
        secrets_encrypted=keyring.encrypt_json(secret_values, secrets_aad(inbox_id)) if secret_values else None,
    )
    session.add(inbox)
    await session.flush()
    return inbox, shown_secret


async def get_inbox(session: AsyncSession, account_id: uuid.UUID, inbox_id: uuid.UUID) -> Inbox:
    inbox = await session.scalar(select(Inbox).where(Inbox.id == inbox_id, Inbox.account_id == account_id))
    if inbox is None:
        raise AppError(404, "not_found", "inbox not found")
    return inbox
