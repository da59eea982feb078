"""Consent checks shared by every integration that sends data out of the account."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard_common.domain.contacts.models import Contact


async def sharing_allowed(session: AsyncSession, account_id: uuid.UUID, contact_id: uuid.UUID) -> bool:
    """False when the contact opted out of sale/sharing (or is unknown): leave them out of exports, webhooks
    and third-party payloads."""
    opted_out = await session.scalar(
        select(Contact.sharing_opt_out).where(Contact.id == contact_id, Contact.account_id == account_id)
    )
    return opted_out is False


def is_pass_through(inbox: Any) -> bool:
    """Pass-through inboxes deliver content but never store it (only routing metadata)."""
    settings = getattr(inbox, "settings", None) or {}
    return bool(settings.get("pass_through"))
