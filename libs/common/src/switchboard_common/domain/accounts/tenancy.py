"""Tenant scoping as the default: build queries with :func:`scoped` and fetch by id with :func:`get_scoped`.

Every tenant-owned table has ``account_id``. ``scoped(select(Model), principal)`` adds
``Model.account_id == principal.account_id`` for every entity the statement selects from, so a handler cannot
forget it; ``get_scoped`` turns an id from another account into the same 404 as an id that does not exist.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard_common.infra.errors import AppError

T = TypeVar("T")


class HasAccount(Protocol):
    account_id: uuid.UUID


def scoped(statement: Select[Any], principal: HasAccount) -> Select[Any]:
    """``statement`` restricted to the principal's account, for each selected entity that has ``account_id``."""
    scoped_any = False
    for description in statement.column_descriptions:
        entity = description.get("entity")
        column = getattr(entity, "account_id", None) if entity is not None else None
        if column is not None:
            statement = statement.where(column == principal.account_id)
            scoped_any = True
    if not scoped_any:
        raise TypeError("scoped() needs a statement over a table with an account_id column")
    return statement


async def get_scoped(
    session: AsyncSession, model: type[T], id_: Any, principal: HasAccount, *, what: str | None = None
) -> T:
    """The row with this id in the principal's account, else 404 (never another account's row)."""
    row = await session.get(model, id_)
    if row is None or getattr(row, "account_id", None) != principal.account_id:
        name = what or getattr(model, "__tablename__", "resource").rstrip("s")
        raise AppError(404, "not_found", f"{name} not found")
    return row
