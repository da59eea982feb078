"""PostgreSQL: every row about the subject, found by discovery (any table with a ``contact_id``,
``conversation_id`` or ``message_id`` column), not by a list of today's tables. Aggregates survive."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.infra.db import affected_rows

from switchboard_privacy.stores.subject import Subject

# Tables the privacy service keeps: they hold ids and counts, never the person (see docs/privacy.md).
KEPT_TABLES = frozenset({"privacy_requests", "privacy_audit_log", "subject_keys", "erased_statistics"})
# Deleted explicitly, last, in this order.
CORE_TABLES = ("messages", "conversations", "contacts")
LINK_COLUMNS = ("message_id", "conversation_id", "contact_id")


async def linked_tables(session: AsyncSession) -> dict[str, list[str]]:
    """column -> tables having it (in the current schema), excluding kept and core tables."""
    rows = (
        await session.execute(
            text(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND column_name = ANY(:cols) ORDER BY table_name"
            ),
            {"cols": list(LINK_COLUMNS)},
        )
    ).all()
    found: dict[str, list[str]] = {col: [] for col in LINK_COLUMNS}
    for table, column in rows:
        if table not in KEPT_TABLES and table not in CORE_TABLES:
            found[column].append(table)
    return found


async def _record_statistics(session: AsyncSession, subject: Subject) -> None:
    """Per-day counts of the conversations and messages about to go, so account statistics stay true."""
    params = {"account_id": subject.account_id, "conversations": subject.conversation_ids}
    await session.execute(
        text(
            "INSERT INTO erased_statistics (account_id, day, kind, count) "
            "SELECT :account_id, date_trunc('day', created_at), 'conversations', count(*) FROM conversations "
            "WHERE id = ANY(:conversations) GROUP BY 2 "
            "ON CONFLICT (account_id, day, kind) DO UPDATE SET count = erased_statistics.count + excluded.count"
        ),
        params,
    )
    await session.execute(
        text(
            "INSERT INTO erased_statistics (account_id, day, kind, count) "
            "SELECT :account_id, date_trunc('day', created_at), 'messages_' || direction, count(*) FROM messages "
            "WHERE conversation_id = ANY(:conversations) GROUP BY 2, 3 "
            "ON CONFLICT (account_id, day, kind) DO UPDATE SET count = erased_statistics.count + excluded.count"
        ),
        params,
    )


async def erase(session: AsyncSession, subject: Subject, request_id: uuid.UUID | None = None) -> dict[str, int]:
    """Deletes everything about the subject in one transaction (the caller's). Returns rows per table.
    Other privacy requests about the person (an earlier access export, a rectification) forget whom they
    were about; this one does so when it completes."""
    counts: dict[str, int] = {}
    conversations = subject.conversation_ids
    contacts = subject.contact_ids
    tables = await linked_tables(session)
    await _record_statistics(session, subject)

    async def delete(sql: str, params: dict[str, Any], table: str) -> None:
        result = await session.execute(text(sql), params)
        if affected_rows(result):
            counts[table] = counts.get(table, 0) + affected_rows(result)

    for table in tables["message_id"]:
        await delete(
            f'DELETE FROM "{table}" WHERE message_id IN '  # noqa: S608 - table names come from the catalog
            "(SELECT id FROM messages WHERE conversation_id = ANY(:ids))",
            {"ids": conversations},
            table,
        )
    for table in tables["conversation_id"]:
        await delete(f'DELETE FROM "{table}" WHERE conversation_id = ANY(:ids)', {"ids": conversations}, table)  # noqa: S608
    for table in tables["contact_id"]:
        await delete(f'DELETE FROM "{table}" WHERE contact_id = ANY(:ids)', {"ids": contacts}, table)  # noqa: S608
    # Events staged but not yet relayed carry the same data in clear.
    for value in [*contacts, *conversations]:
        await delete(
            "DELETE FROM outbox_events WHERE position(convert_to(:needle, 'UTF8') in body) > 0",
            {"needle": str(value)},
            "outbox_events",
        )
    result = await session.execute(
        text(
            "UPDATE privacy_requests SET subject = '{}', changes = '{}', contact_ids = '[]' "
            "WHERE account_id = :account AND id IS DISTINCT FROM :current AND ("
            "jsonb_exists_any(contact_ids, CAST(:ids AS text[])) OR EXISTS (SELECT 1 FROM unnest(CAST(:needles AS "
            "text[])) AS n WHERE position(n in subject::text) > 0 OR position(n in changes::text) > 0))"
        ),
        {
            "account": subject.account_id,
            "current": request_id,
            "ids": [str(c) for c in contacts],
            "needles": sorted(subject.uuid_needles()) + subject.string_needles(),
        },
    )
    if affected_rows(result):
        counts["privacy_requests"] = affected_rows(result)
    await delete("DELETE FROM messages WHERE conversation_id = ANY(:ids)", {"ids": conversations}, "messages")
    await delete("DELETE FROM conversations WHERE id = ANY(:ids)", {"ids": conversations}, "conversations")
    await delete(
        "DELETE FROM contacts WHERE account_id = :account AND id = ANY(:ids)",
        {"ids": contacts, "account": subject.account_id},
        "contacts",
    )
    return counts


async def export(session: AsyncSession, subject: Subject) -> dict[str, list[dict[str, Any]]]:
    """Every row about the subject, per table, as JSON-ready dicts."""
    out: dict[str, list[dict[str, Any]]] = {}

    async def rows(table: str, sql: str, params: dict[str, Any]) -> None:
        result = await session.execute(text(sql), params)
        found = [{k: _jsonable(v) for k, v in row._mapping.items() if k not in SKIPPED_COLUMNS} for row in result]
        if found:
            out.setdefault(table, []).extend(found)

    ids = {"contacts": subject.contact_ids, "conversations": subject.conversation_ids}
    # Custom attributes travel with the contact row, agents' notes about the person in ``contact_notes``
    # (found through its ``contact_id``), private notes of their conversations with the messages.
    await rows("contacts", "SELECT * FROM contacts WHERE id = ANY(:contacts)", ids)
    await rows("conversations", "SELECT * FROM conversations WHERE id = ANY(:conversations)", ids)
    await rows(
        "messages",
        "SELECT * FROM messages WHERE conversation_id = ANY(:conversations) ORDER BY created_at",
        ids,
    )
    tables = await linked_tables(session)
    for table in tables["conversation_id"]:
        await rows(table, f'SELECT * FROM "{table}" WHERE conversation_id = ANY(:conversations)', ids)  # noqa: S608
    for table in tables["contact_id"]:
        await rows(table, f'SELECT * FROM "{table}" WHERE contact_id = ANY(:contacts)', ids)  # noqa: S608
    return out


# Columns never exported: secrets and internal bodies (they would expose other people's data or keys).
SKIPPED_TYPES = (bytes, memoryview)
# Derived columns: the full-text index repeats the text already exported beside it.
SKIPPED_COLUMNS = frozenset({"search_vector"})


def _jsonable(value: Any) -> Any:
    if isinstance(value, SKIPPED_TYPES):
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


NOTE_WHERE = "WHERE id = CAST(:id AS uuid) AND account_id = :account AND contact_id = ANY(:ids)"
REMOVE_NOTE = text("DELETE FROM contact_notes " + NOTE_WHERE)  # noqa: S608 - constants only
CORRECT_NOTE = text("UPDATE contact_notes SET text = :text " + NOTE_WHERE)  # noqa: S608 - constants only


async def rectify(session: AsyncSession, subject: Subject, changes: dict[str, Any]) -> dict[str, int]:
    """Contact fields are the only copy in PostgreSQL (messages refer to the contact by id); custom attributes
    are corrected or removed key by key, and agents' notes about the person corrected or removed by id."""
    counts: dict[str, int] = {}
    allowed = {k: v for k, v in changes.items() if k in {"name", "email", "phone"}}
    if allowed:
        assignments = ", ".join(f"{k} = :{k}" for k in allowed)
        result = await session.execute(
            text(f"UPDATE contacts SET {assignments} WHERE account_id = :account AND id = ANY(:ids)"),  # noqa: S608
            {**allowed, "account": subject.account_id, "ids": subject.contact_ids},
        )
        counts["contacts"] = affected_rows(result)
    attributes = changes.get("custom_attributes") or {}
    if attributes:
        result = await session.execute(
            text(
                "UPDATE contacts SET custom_attributes = jsonb_strip_nulls(custom_attributes || CAST(:set AS jsonb)) "
                "WHERE account_id = :account AND id = ANY(:ids)"
            ),
            {"set": json.dumps(attributes), "account": subject.account_id, "ids": subject.contact_ids},
        )
        counts["contact_attributes"] = affected_rows(result)
    for note_id, new_text in (changes.get("contact_notes") or {}).items():
        params = {"id": str(note_id), "account": subject.account_id, "ids": subject.contact_ids, "text": new_text}
        result = await session.execute(REMOVE_NOTE if new_text is None else CORRECT_NOTE, params)
        counts["contact_notes"] = counts.get("contact_notes", 0) + affected_rows(result)
    return counts
