"""Writing and reading the audit trail. PostgreSQL rejects UPDATE and DELETE on it (trigger, migration 0005)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.privacy.models import PrivacyAuditEntry


async def record(
    session: AsyncSession,
    *,
    account_id: uuid.UUID | None,
    actor: str,
    action: str,
    request_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """``actor`` is "user:{id}", "system:{worker}" or "subject"; ``details`` carry counts and store names only."""
    session.add(
        PrivacyAuditEntry(
            account_id=account_id, actor=actor, action=action, request_id=request_id, details=details or {}
        )
    )


async def entries(session: AsyncSession, limit: int = 200) -> list[PrivacyAuditEntry]:
    """The newest entries of the account ``session`` is scoped to."""
    rows = await session.scalars(select(PrivacyAuditEntry).order_by(PrivacyAuditEntry.id.desc()).limit(limit))
    return list(rows)
