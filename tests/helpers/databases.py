"""A database of its own for every live system a test starts, copied from a migrated template.

Kafka topics and Redis keys were already namespaced per system, but every system shared one database. Workers
that poll the database rather than a topic (webhook deliveries, CSAT surveys, SLA and routing timers,
retention) then took rows another system had written and handled them with their own settings: a survey sent
to the real Graph API instead of the test's fake, a delivery refused as a private address. That is the stall
seen when several systems share a pytest process (the session's system beside a module's own). A copy of the
template costs a few tens of milliseconds.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import uuid

import asyncpg
from sqlalchemy.engine import make_url

TEMPLATE = "switchboard_template"


def _connect_args(database_url: str) -> dict[str, object]:
    url = make_url(database_url)
    return {"host": url.host, "port": url.port, "user": url.username, "password": url.password}


def with_database(database_url: str, name: str) -> str:
    return make_url(database_url).set(database=name).render_as_string(hide_password=False)


async def _admin(database_url: str, statement: str) -> None:
    connection = await asyncpg.connect(**_connect_args(database_url), database="postgres")  # type: ignore[arg-type]  # asyncpg's connect is untyped per keyword
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create_template(database_url: str) -> None:
    """The migrated template every system's database is copied from (never connected to afterwards: PostgreSQL
    copies only a template nobody is connected to). Synchronous, for the session's setup: it runs in a thread
    of its own, away from the test's event loop (the migrations start their own loop)."""
    from switchboard_common.migrations import upgrade

    def create() -> None:
        asyncio.run(_admin(database_url, f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)'))
        asyncio.run(_admin(database_url, f'CREATE DATABASE "{TEMPLATE}"'))
        upgrade(with_database(database_url, TEMPLATE))

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(create).result()


async def system_database(database_url: str) -> tuple[str, str] | None:
    """A fresh database copied from the template: (its name, its URL); None when the server refuses (a given
    DATABASE_URL whose role may not create databases: the systems then share that database, as before)."""
    name = f"system_{uuid.uuid4().hex[:12]}"
    try:
        await _admin(database_url, f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    except (asyncpg.InsufficientPrivilegeError, asyncpg.InvalidCatalogNameError):
        return None
    return name, with_database(database_url, name)


async def drop_database(database_url: str, name: str) -> None:
    await _admin(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
