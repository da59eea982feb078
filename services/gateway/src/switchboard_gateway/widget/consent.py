"""The web inbox's pre-chat consent: what the widget must ask, and the record of what a visitor accepted."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.privacy.models import ConsentRecord
from switchboard_common.infra.errors import AppError


def prechat_consent(inbox: Any) -> dict[str, Any]:
    """The web inbox's pre-chat consent: ``{"required": bool, "version": str, "text": str | None}``."""
    settings = getattr(inbox, "settings", None) or {}
    return {
        "required": bool(settings.get("consent_required")),
        "version": str(settings.get("consent_version") or "1"),
        "text": settings.get("consent_text"),
    }


def check_prechat_consent(inbox: Any, given_version: str | None) -> str | None:
    """The version to record, or None when nothing was given; refuses a session the inbox requires consent for
    when the visitor did not accept the current text (an old version must be accepted again)."""
    config = prechat_consent(inbox)
    if config["required"] and given_version != config["version"]:
        raise AppError(
            403, "consent_required", f"accept the pre-chat consent (version {config['version']}) to start a chat"
        )
    return given_version


async def record_consent(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    contact_id: uuid.UUID,
    inbox_id: uuid.UUID | None,
    kind: str,
    version: str | None,
    granted: bool = True,
) -> None:
    session.add(
        ConsentRecord(
            account_id=account_id, contact_id=contact_id, inbox_id=inbox_id, kind=kind, version=version, granted=granted
        )
    )
