"""Slack: the customer messages the product mirrored into agents' Slack threads are deleted there with
``chat.delete`` and the inbox's bot token. Messages Slack refuses to delete are reported on the request
(GDPR Art. 19) with Slack's error code; a network failure fails the step, which is retried."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.crypto import Keyring
from switchboard_common.db.models import Inbox
from switchboard_common.inbox_secrets import decrypt_secrets

from switchboard_privacy.stores.subject import Subject

log = structlog.get_logger(__name__)

# Errors that mean "already gone": the goal is reached.
GONE = frozenset({"message_not_found", "thread_not_found", "channel_not_found"})


async def mirror_table_exists(session: AsyncSession) -> bool:
    return bool(await session.scalar(text("SELECT to_regclass('slack_mirror_messages') IS NOT NULL")))


async def erase(
    session: AsyncSession, subject: Subject, keyring: Keyring, api_url: str, client: httpx.AsyncClient
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Returns (counts, what could not be deleted). Deleted rows are removed from the mirror table at once,
    so a retry only sends what is left."""
    counts = {"deleted": 0, "not_deleted": 0}
    failures: list[dict[str, Any]] = []
    if not subject.conversation_ids or not await mirror_table_exists(session):
        return counts, failures
    rows = (
        await session.execute(
            text(
                "SELECT id, inbox_id, slack_channel_id, slack_ts FROM slack_mirror_messages "
                "WHERE conversation_id = ANY(:ids) ORDER BY message_id NULLS LAST"
            ),
            {"ids": subject.conversation_ids},
        )
    ).all()
    tokens: dict[uuid.UUID, str | None] = {}
    for row in rows:
        if row.inbox_id not in tokens:
            inbox = await session.get(Inbox, row.inbox_id)
            secrets = decrypt_secrets(keyring, inbox.id, inbox.secrets_encrypted) if inbox else {}
            tokens[row.inbox_id] = secrets.get("bot_token")
        token = tokens[row.inbox_id]
        error = "inbox_removed" if token is None else None
        if token is not None:
            response = await client.post(
                f"{api_url.rstrip('/')}/chat.delete",
                headers={"Authorization": f"Bearer {token}"},
                json={"channel": row.slack_channel_id, "ts": row.slack_ts},
            )
            response.raise_for_status()
            body = response.json()
            if not body.get("ok") and body.get("error") not in GONE:
                error = str(body.get("error") or "unknown")[:60]
        if error is None:
            counts["deleted"] += 1
        else:
            counts["not_deleted"] += 1
            # Where the copy is, so the account can ask Slack's workspace admin; no content.
            failures.append({"store": "slack", "channel": row.slack_channel_id, "ts": row.slack_ts, "error": error})
        await session.execute(text("DELETE FROM slack_mirror_messages WHERE id = :id"), {"id": row.id})
        await session.commit()
    if failures:
        log.warning("slack_copies_not_deleted", count=len(failures))
    return counts, failures


async def thread_parents(session: AsyncSession, subject: Subject) -> list[dict[str, Any]]:
    """Rectification: the Slack thread headers the mirror wrote name the contact as they were then. Slack's
    copy is not rewritten; where it is gets reported on the request (GDPR Art. 19)."""
    if not subject.conversation_ids or not await mirror_table_exists(session):
        return []
    rows = (
        await session.execute(
            text(
                "SELECT slack_channel_id, slack_ts FROM slack_mirror_messages "
                "WHERE conversation_id = ANY(:ids) AND message_id IS NULL ORDER BY slack_ts"
            ),
            {"ids": subject.conversation_ids},
        )
    ).all()
    return [{"store": "slack", "channel": r.slack_channel_id, "ts": r.slack_ts, "error": "not_rewritten"} for r in rows]
