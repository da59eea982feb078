"""Consent checks shared by every integration that sends data out of the account."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard_common.domain.accounts.tenancy import require_tenant
from switchboard_common.domain.contacts.models import Contact


async def sharing_allowed(session: AsyncSession, account_id: uuid.UUID, contact_id: uuid.UUID) -> bool:
    """False when the contact opted out of sale/sharing (or is unknown): leave them out of exports, webhooks
    and third-party payloads. In a session scoped to the account: another account's contact reads as unknown."""
    require_tenant(session, account_id)
    opted_out = await session.scalar(select(Contact.sharing_opt_out).where(Contact.id == contact_id))
    return opted_out is False


# The inbox setting that makes an inbox pass-through (an InboxCreate/InboxUpdate boolean).
PASS_THROUGH_SETTING = "pass_through"  # noqa: S105 - a settings key, not a secret


def is_pass_through(inbox: Any) -> bool:
    """Pass-through inboxes deliver content but never store it (only routing metadata)."""
    settings = getattr(inbox, "settings", None) or {}
    return bool(settings.get(PASS_THROUGH_SETTING))


def pass_through_sql(settings_column: str) -> str:
    """:func:`is_pass_through` as a SQL expression over an inbox's ``settings`` column, for statements that read
    the inbox themselves (the timeline stores a message in one statement). A test keeps the two in step."""
    return f"coalesce({settings_column} -> '{PASS_THROUGH_SETTING}' = 'true'::jsonb, false)"
