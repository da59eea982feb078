"""Tenant scoping, done by the session: a query cannot forget its account.

Every tenant-owned table has ``account_id``. A session scoped to an account (:func:`scope_session`, or
:func:`tenant_session` to open one) adds ``Model.account_id == <account>`` for every tenant-owned table an ORM
SELECT, UPDATE or DELETE touches anywhere (selected entities, ``select_from``, joins, subqueries,
``session.get``, relationship loads: ``with_loader_criteria`` from a ``do_orm_execute`` hook), so a row of
another account reads as missing: a 404, never a 403 that would confirm the id exists. The agent and visitor
dependencies (``switchboard_common.domain.accounts.auth``) scope the request's session as soon as they know the
caller; consumers and workers open ``tenant_session`` with the event's ``tenant_id``.

Cross-tenant work says so, and a scoped session leaves it alone (it must never silently miss rows):
:func:`cross_tenant` marks a statement (the lookups that find the account: a token, a login, a webhook's channel
claim; sweeps over every account), :func:`cross_tenant_session` a session (the privacy service's erasure,
retention and purge, which filter on the account themselves). What the hook cannot see, the statement writes
itself: raw SQL (``text``) filters on ``account_id`` by hand. ``tests/helpers/tenancy.py`` fails any test
during which a statement reaches a tenant table with neither, or an ORM statement runs in a session neither
scoped nor cross-tenant.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import ClauseElement, Table, event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql import Executable
from sqlalchemy.sql.util import find_tables

from switchboard_common.infra.db.base import Base

E = TypeVar("E", bound=Executable)

TENANT_KEY = "switchboard.tenant"
CROSS_TENANT_KEY = "switchboard.cross_tenant"
CROSS_TENANT_OPTION = "cross_tenant"


def is_tenant_owned(cls: type[Any]) -> bool:
    """A mapped class whose rows belong to one account (``account_id``), unless it opts out with
    ``__tenant_scoped__ = False`` (rows every account must see, such as channel claims)."""
    return hasattr(cls, "account_id") and getattr(cls, "__tenant_scoped__", True)


def scope_session(session: AsyncSession | Session, account_id: uuid.UUID) -> None:
    """From now on the session reads and changes only ``account_id``'s rows.

    Rows of other accounts it already holds (loaded by the lookup that found the account) leave its identity
    map, so ``session.get`` cannot return them without asking the database. A session belongs to one account:
    scoping it to a second one is a bug, refused."""
    current = session.info.get(TENANT_KEY)
    if current is not None and current != account_id:
        raise RuntimeError("session is already scoped to another account")
    if session.info.get(CROSS_TENANT_KEY):
        raise RuntimeError("a cross-tenant session cannot be scoped to one account")
    session.info[TENANT_KEY] = account_id
    for instance in list(session.identity_map.values()):
        if is_tenant_owned(type(instance)) and getattr(instance, "account_id", account_id) != account_id:
            session.expunge(instance)


def session_tenant(session: AsyncSession | Session) -> uuid.UUID | None:
    return session.info.get(TENANT_KEY)


def require_tenant(session: AsyncSession | Session, account_id: uuid.UUID) -> None:
    """For the shared helpers that take a session and an account: they write no account filter, the session
    adds it, so a session not scoped to that account (unscoped, cross-tenant or another account's) would read
    or change every account's rows. Refused, loudly, instead."""
    if session.info.get(TENANT_KEY) != account_id:
        raise RuntimeError("this helper needs a session scoped to its account (tenant_session or scope_session)")


@asynccontextmanager
async def tenant_session(
    sessionmaker: async_sessionmaker[AsyncSession], account_id: uuid.UUID, *, begin: bool = False
) -> AsyncIterator[AsyncSession]:
    """A session scoped to ``account_id``; with ``begin`` one transaction, committed on success."""
    async with sessionmaker() as session:
        scope_session(session, account_id)
        if begin:
            async with session.begin():
                yield session
        else:
            yield session


@asynccontextmanager
async def cross_tenant_session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session whose every statement is cross-tenant on purpose: the privacy service's erasure, retention and
    purge, which work through one account's rows by the ids they selected for it, across stores."""
    async with sessionmaker() as session:
        session.info[CROSS_TENANT_KEY] = True
        yield session


def cross_tenant(statement: E) -> E:
    """Marks a statement that reads or changes several accounts' rows on purpose (a sweep over every account,
    the lookup that finds the account): the scoped session leaves it alone and the test hook accepts it."""
    return statement.execution_options(**{CROSS_TENANT_OPTION: True})


@event.listens_for(Session, "do_orm_execute")
def _scope_to_tenant(state: ORMExecuteState) -> None:
    if state.session.info.get(CROSS_TENANT_KEY):
        state.update_execution_options(**{CROSS_TENANT_OPTION: True})
        return
    account_id = state.session.info.get(TENANT_KEY)
    if account_id is None or state.execution_options.get(CROSS_TENANT_OPTION):
        return
    if state.is_column_load:
        # A refresh or expired-attribute load reloads, by primary key, a row the session already holds: one of
        # its account (scoping expunged the others) or one it chose to load across accounts. Loader criteria do
        # not reach these loads; they are marked so the test guard knows why no condition is there.
        state.update_execution_options(**{CROSS_TENANT_OPTION: True})
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    owned = _owned_classes(state.statement)
    if owned:
        state.statement = state.statement.options(
            *(with_loader_criteria(cls, cls.account_id == account_id, include_aliases=True) for cls in owned)
        )


def _owned_classes(statement: Executable) -> list[type[Any]]:
    """The tenant-owned classes whose tables ``statement`` reads or changes anywhere: selected entities and
    columns, ``select_from``, joins, subqueries, EXISTS (``state.all_mappers`` sees only the selected ones)."""
    if not isinstance(statement, ClauseElement):  # every SQLAlchemy statement is one; refuse rather than not scope
        raise TypeError(f"cannot scope {type(statement).__name__} to a tenant")
    by_table = _tenant_classes_by_table()
    found = find_tables(statement, check_columns=True, include_crud=True)
    return list({by_table[t]: None for t in found if isinstance(t, Table) and t in by_table})


@functools.cache
def _tenant_classes_by_table() -> dict[Table, type[Any]]:
    # After every domain's models are imported (switchboard_common.domain imports them all, then this module).
    return {
        mapper.local_table: mapper.class_
        for mapper in Base.registry.mappers
        if isinstance(mapper.local_table, Table) and is_tenant_owned(mapper.class_)
    }
