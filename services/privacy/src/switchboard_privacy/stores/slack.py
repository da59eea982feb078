"""Slack: the customer messages the product mirrored into agents' Slack threads are deleted there with
``chat.delete`` and the inbox's bot token, and a rectified name rewrites the thread headers with
``chat.update``. What Slack refuses is reported on the request (GDPR Art. 19) with Slack's error code; a
network failure fails the step, which is retried."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.domain.inboxes.secrets import decrypt_secrets
from switchboard_common.domain.inboxes.slack_threads import thread_header
from switchboard_common.infra.crypto import Keyring

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
    tokens = await _bot_tokens(session, keyring, {row.inbox_id for row in rows})
    for row in rows:
        token = tokens.get(row.inbox_id)
        error = await _call(
            client, api_url, "chat.delete", token, {"channel": row.slack_channel_id, "ts": row.slack_ts}
        )
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


async def rewrite_thread_headers(
    session: AsyncSession,
    subject: Subject,
    name: str | None,
    keyring: Keyring,
    api_url: str,
    client: httpx.AsyncClient,
) -> tuple[int, list[dict[str, Any]]]:
    """Rectification: the Slack thread headers the mirror wrote name the contact; they are rewritten with
    ``chat.update``. Returns (rewritten, what Slack refused: reported on the request, GDPR Art. 19)."""
    if not subject.conversation_ids or not await mirror_table_exists(session):
        return 0, []
    rows = (
        await session.execute(
            text(
                "SELECT m.inbox_id, m.slack_channel_id, m.slack_ts, c.channel FROM slack_mirror_messages m "
                "JOIN conversations c ON c.id = m.conversation_id "
                "WHERE m.conversation_id = ANY(:ids) AND m.message_id IS NULL ORDER BY m.slack_ts"
            ),
            {"ids": subject.conversation_ids},
        )
    ).all()
    rewritten = 0
    failures: list[dict[str, Any]] = []
    tokens = await _bot_tokens(session, keyring, {row.inbox_id for row in rows})
    for row in rows:
        token = tokens.get(row.inbox_id)
        error = await _call(
            client,
            api_url,
            "chat.update",
            token,
            {"channel": row.slack_channel_id, "ts": row.slack_ts, "text": thread_header(row.channel, name)},
        )
        if error is None:
            rewritten += 1
        else:
            failures.append({"store": "slack", "channel": row.slack_channel_id, "ts": row.slack_ts, "error": error})
    return rewritten, failures


async def _bot_tokens(session: AsyncSession, keyring: Keyring, inbox_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    tokens: dict[uuid.UUID, str] = {}
    for inbox_id in inbox_ids:
        inbox = await session.get(Inbox, inbox_id)
        token = decrypt_secrets(keyring, inbox.id, inbox.secrets_encrypted).get("bot_token") if inbox else None
        if token:
            tokens[inbox_id] = str(token)
    return tokens


async def _call(
    client: httpx.AsyncClient, api_url: str, method: str, token: str | None, body: dict[str, Any]
) -> str | None:
    """None when Slack did it (or the message is already gone), else why not. A network or HTTP failure
    raises: the step fails and is retried (both methods are idempotent)."""
    if token is None:
        return "inbox_removed"
    response = await client.post(
        f"{api_url.rstrip('/')}/{method}", headers={"Authorization": f"Bearer {token}"}, json=body
    )
    response.raise_for_status()
    answer = response.json()
    if answer.get("ok") or answer.get("error") in GONE:
        return None
    return str(answer.get("error") or "unknown")[:60]
