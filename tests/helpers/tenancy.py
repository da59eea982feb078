"""The guard behind the promise in docs/security.md: every statement on a tenant-owned table is scoped to an
account. An engine hook in the test process (every live server's engine) looks at each statement as sent to
PostgreSQL; one that reads or changes a tenant table (``FROM``, ``JOIN``, ``UPDATE``, ``DELETE FROM``) without
an ``account_id`` condition, and is not marked cross-tenant (``tenancy.cross_tenant``), is recorded, and the
autouse fixture in ``tests/conftest.py`` fails the test during which it ran."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from switchboard_common.domain.accounts.tenancy import (
    CROSS_TENANT_OPTION,
    is_tenant_owned,
)
from switchboard_common.infra.db.base import Base
from switchboard_common.migrations.tables import metadata

TENANT_TABLES = frozenset(
    mapper.local_table.name
    for mapper in Base.registry.mappers
    if is_tenant_owned(mapper.class_) and mapper.local_table.name in metadata.tables
)
_NOT_QUERIES = (
    "INSERT",
    "CREATE",
    "DROP",
    "ALTER",
    "SET",
    "SHOW",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "RELEASE",
    "LOCK",
    "TRUNCATE",
    "PREPARE",
    "DEALLOCATE",
    "LISTEN",
    "NOTIFY",
)
_TABLE_USE = {name: re.compile(rf'(?i)\b(?:FROM|JOIN|UPDATE)\s+"?{name}"?(?![\w])') for name in TENANT_TABLES}
# ``account_id = ...``, ``account_id IN ...``, a row comparison ``(id, account_id) IN ...``.
_ACCOUNT_CONDITION = re.compile(r"(?i)\baccount_id\s*\)?\s*(?:=|IN\b|IS NOT DISTINCT FROM\b)")

unscoped_statements: list[str] = []


def unscoped_tables(sql: str) -> set[str]:
    """The tenant tables ``sql`` reads or changes when it has no account condition at all."""
    if sql.lstrip()[:12].upper().startswith(_NOT_QUERIES):
        return set()
    used = {name for name, pattern in _TABLE_USE.items() if pattern.search(sql)}
    if used and not _ACCOUNT_CONDITION.search(sql):
        return used
    return set()


def _is_flush(options: Any) -> bool:
    """A unit-of-work flush: the UPDATE or DELETE of rows the session holds by primary key. Each of them was
    loaded by a statement this guard saw (scoped or with its own condition) or added with its account, so the
    flush needs no condition of its own. SQLAlchemy runs flushes with the mapper's own statement cache
    (``orm.persistence``), which is how they are told apart here."""
    cache = options.get("compiled_cache")
    return cache is not None and any(cache is mapper._compiled_cache for mapper in Base.registry.mappers)


@event.listens_for(Engine, "before_cursor_execute")
def _record_unscoped(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    if context is not None and context.execution_options.get(CROSS_TENANT_OPTION):
        return
    if context is not None and _is_flush(context.execution_options):
        return
    if unscoped_tables(statement):
        unscoped_statements.append(" ".join(statement.split())[:600])
