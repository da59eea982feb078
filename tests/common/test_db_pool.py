"""The database pool of every process (``infra.db.create_engine``)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from switchboard_common.infra.db import create_engine
from switchboard_common.infra.settings import CommonSettings
from switchboard_devstack.servers import StackUrls


async def test_a_burst_keeps_its_connections_open_for_the_next_one(stack_urls: StackUrls) -> None:
    """A burst past DB_POOL_SIZE connections (up to twice as many) leaves them open: closing the extra ones on
    return meant a PostgreSQL backend start and a TLS negotiation per connection on every burst (issue 17)."""
    engine = create_engine(CommonSettings(database_url=stack_urls.database_url, db_pool_size=2, pool_timeout_seconds=5))
    try:
        started = asyncio.Event()
        release = asyncio.Event()
        backends: set[int] = set()

        async def hold() -> None:
            async with engine.connect() as connection:
                backends.add(int(await connection.scalar(text("SELECT pg_backend_pid()"))))
                if len(backends) == 4:
                    started.set()
                await release.wait()

        holders = [asyncio.create_task(hold()) for _ in range(4)]
        await asyncio.wait_for(started.wait(), 30)
        release.set()
        await asyncio.gather(*holders)
        assert engine.pool.checkedin() == 4  # type: ignore[attr-defined]  # QueuePool's count

        async def backend() -> int:
            async with engine.connect() as connection:
                await asyncio.sleep(0.05)  # held together: each one is a different pooled connection
                return int(await connection.scalar(text("SELECT pg_backend_pid()")))

        assert set(await asyncio.gather(*(backend() for _ in range(4)))) == backends
    finally:
        await engine.dispose()
