"""Workers that take due rows from the database do not poll an idle table (issue 17: no idle polling that costs
CPU when nothing flows): an insert into ``webhook_deliveries`` or ``csat_surveys`` NOTIFYs the table's channel
(migration 0019's trigger) and wakes the listening worker; between rows it sleeps until the next one is due."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from switchboard_common.infra.wakeup import DatabaseWakeup
from switchboard_connectors.app import slack_api
from switchboard_connectors.channels.messenger.client import GraphApi
from switchboard_connectors.csat import CsatWorker
from switchboard_connectors.deliveries import DeliveryWorker
from switchboard_connectors.settings import ConnectorSettings

from tests.helpers.api import eventually
from tests.helpers.live import LiveServer


async def until(condition: Callable[[], bool], timeout: float) -> None:
    async def check() -> bool:
        return condition()

    await eventually(check, timeout=timeout, interval=0.02)


async def admin(database_url: str, statement: str) -> None:
    url = make_url(database_url)
    connection = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, database=url.database
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def insert_nothing(database_url: str, table: str) -> None:
    """An INSERT of no rows: the statement-level trigger fires all the same (and nothing is written)."""
    await admin(database_url, f"INSERT INTO {table} SELECT * FROM {table} WHERE false")  # noqa: S608 - our names


async def test_an_insert_wakes_a_listener_on_its_tables_channel(server: LiveServer) -> None:
    settings = server.settings()
    for table in ("webhook_deliveries", "csat_surveys"):
        wakeup = DatabaseWakeup(settings, table, fallback_seconds=30)
        stopping = asyncio.Event()
        await wakeup.start()
        try:
            await until(lambda w=wakeup: w.listening, timeout=10)
            await wakeup.wait(0.5, stopping)  # the look it asks for once it listens
            waiting = asyncio.create_task(wakeup.wait(30, stopping))
            await asyncio.sleep(0.2)
            assert not waiting.done()
            started = time.perf_counter()
            await insert_nothing(settings.database_url, table)
            await asyncio.wait_for(waiting, 5)
            assert time.perf_counter() - started < 2, table
        finally:
            await wakeup.stop()


async def test_an_idle_delivery_worker_does_not_poll_and_wakes_for_a_new_row(server: LiveServer) -> None:
    resources = server.resources("connectors")
    # Without wake-ups this worker would look every 2 s whatever happens; with them it looks when told.
    worker = DeliveryWorker(resources, poll_interval=2.0)
    looks: list[float] = []
    claim = worker.run_once

    async def counted() -> Any:
        looks.append(time.perf_counter())
        return await claim()

    worker.run_once = counted  # type: ignore[method-assign]  # counts the worker's own claims
    await worker.start()
    try:
        await until(lambda: worker.wakeup.listening, timeout=10)
        await asyncio.sleep(1.0)  # the first looks (start, and once listening) are over
        settled = len(looks)
        await asyncio.sleep(4.5)
        assert len(looks) == settled, "an idle worker polled"
        woken = time.perf_counter()
        await insert_nothing(resources.settings.database_url, "webhook_deliveries")
        await until(lambda: len(looks) > settled, timeout=5)
        assert looks[settled] - woken < 1.0
    finally:
        await worker.stop()


async def test_an_idle_csat_worker_does_not_poll_and_wakes_for_a_new_survey(server: LiveServer) -> None:
    resources = server.resources("connectors")
    settings = resources.settings
    assert isinstance(settings, ConnectorSettings)
    # Without wake-ups this worker would look every 2 s whatever happens; with them it looks when told.
    worker = CsatWorker(resources, slack_api(resources), GraphApi(settings.graph_api_url), interval=2.0)
    looks: list[float] = []
    send_due = worker.send_due

    async def counted(now: datetime | None = None, *, limit: int = 50) -> int:
        looks.append(time.perf_counter())
        return await send_due(now, limit=limit)

    worker.send_due = counted  # type: ignore[method-assign]  # counts the worker's own looks
    await worker.start()
    try:
        await until(lambda: worker.wakeup.listening, timeout=10)
        await asyncio.sleep(1.0)
        settled = len(looks)
        await asyncio.sleep(4.5)
        assert len(looks) == settled, "an idle worker polled"
        woken = time.perf_counter()
        await insert_nothing(resources.settings.database_url, "csat_surveys")
        await until(lambda: len(looks) > settled, timeout=5)
        assert looks[settled] - woken < 1.0
    finally:
        await worker.stop()


async def test_a_listener_whose_connection_is_killed_listens_again(server: LiveServer) -> None:
    settings = server.settings()
    channel = "webhook_deliveries"
    wakeup = DatabaseWakeup(settings, channel, fallback_seconds=30)
    stopping = asyncio.Event()
    await wakeup.start()
    try:
        await until(lambda: wakeup.listening, timeout=10)
        await wakeup.wait(0.5, stopping)
        # Every listening session on the channel (this system's own workers' too: they come back the same way).
        await admin(
            settings.database_url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'switchboard-wakeup-webhook_deliveries' AND datname = current_database()",
        )
        await until(lambda: not wakeup.listening, timeout=10)
        # While it is down the wait falls back to fallback_seconds (30 s here, so the assertion below can tell).
        await until(lambda: wakeup.listening, timeout=15)
        await wakeup.wait(0.5, stopping)  # the look it asks for once it listens again
        waiting = asyncio.create_task(wakeup.wait(30, stopping))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await insert_nothing(settings.database_url, channel)
        await asyncio.wait_for(waiting, 5)
    finally:
        await wakeup.stop()
