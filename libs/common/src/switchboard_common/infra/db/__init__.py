"""PostgreSQL through SQLAlchemy 2 async + asyncpg."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from sqlalchemy import CursorResult, Result
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from switchboard_common.infra.settings import CommonSettings

# Exists only while `python -m switchboard_ops restore` brings a database back and replays the erasure ledger:
# services report not ready until it is gone, so a restored region serves no traffic before the replay.
RESTORE_GATE_TABLE = "switchboard_restore_gate"


def create_engine(settings: CommonSettings) -> AsyncEngine:
    return create_async_engine(
        settings.database_url,
        # DB_POOL_SIZE connections plus as many for bursts, all kept once opened: overflow connections were closed
        # on return, and the ack path's bursts (a Kafka acknowledgement releases a wave of requests at once) then
        # opened and closed connections all the time, each a PostgreSQL backend start and a TLS negotiation
        # (a fifth of the front's samples under wrk). The ceiling is the same.
        pool_size=settings.db_pool_size * 2,
        max_overflow=0,
        # A checkout waits this long at most; its TimeoutError becomes 503 overloaded (infra.errors).
        pool_timeout=settings.pool_timeout_seconds,
        # No ping per checkout (it costs three round trips on asyncpg): a dropped connection fails its first
        # use, SQLAlchemy then discards the whole pool, and callers retry (consumers treat it as transient).
        pool_pre_ping=False,
        pool_recycle=1800,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session inside one transaction: committed on success, rolled back on error."""
    async with sessionmaker() as session, session.begin():
        yield session


@asynccontextmanager
async def atomic(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """Commit the block (together with any reads the request already made), or roll it all back."""
    if not session.in_transaction():
        async with session.begin():
            yield session
        return
    try:
        yield session
    except BaseException:
        await session.rollback()
        raise
    await session.commit()


def affected_rows(result: Result[Any]) -> int:
    """The rows an INSERT, UPDATE or DELETE changed. ``Session.execute`` returns a ``CursorResult`` for those
    statements but is typed as returning ``Result``, which has no ``rowcount``."""
    return cast(CursorResult[Any], result).rowcount
