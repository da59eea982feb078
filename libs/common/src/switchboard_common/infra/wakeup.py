"""Wake-ups for workers that take due rows from a table (webhook deliveries, CSAT surveys): instead of polling
an idle table several times a second, a worker sleeps until its next row is due, and PostgreSQL wakes it when
a row is added (a trigger's NOTIFY on the table's channel, sent at commit, reaches every replica listening on
the database; the triggers are in migration 0019).

The listening connection is one of its own, outside the pool, named ``switchboard-wakeup-<channel>`` in
``pg_stat_activity``; it is checked every ``CHECK_SECONDS`` (a connection that died without a word delivers
nothing). While it is down (a restart of PostgreSQL, a failover) a notification can be missed, so the worker
then sleeps at most ``fallback_seconds`` between polls, and once the connection is back it polls at once.
LISTEN needs a session of its own: behind a pooler in transaction mode no notification arrives, and the
workers only find rows when they are due or when they look anyway (their idle maximum)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from switchboard_common.infra.settings import CommonSettings

log = structlog.get_logger(__name__)
RECONNECT_SECONDS = 1.0
CHECK_SECONDS = 5.0


class DatabaseWakeup:
    """``wait`` returns when a NOTIFY arrives on ``channel``, when ``timeout`` passes or when ``stopping`` is
    set, whichever comes first."""

    def __init__(self, settings: CommonSettings, channel: str, *, fallback_seconds: float = 1.0) -> None:
        self.settings = settings
        self.channel = channel
        self.fallback_seconds = fallback_seconds
        self._notified = asyncio.Event()
        self._listening = False
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def listening(self) -> bool:
        return self._listening

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name=f"wakeup:{self.channel}")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._task = None

    async def wait(self, timeout: float, stopping: asyncio.Event) -> None:
        if not self._listening:
            timeout = min(timeout, self.fallback_seconds)
        waits = [asyncio.ensure_future(self._notified.wait()), asyncio.ensure_future(stopping.wait())]
        try:
            await asyncio.wait(waits, timeout=max(timeout, 0.0), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        self._notified.clear()

    def _on_notify(self, *_args: Any) -> None:
        self._notified.set()

    async def _listen(self) -> None:
        engine: AsyncEngine = create_async_engine(
            self.settings.database_url,
            poolclass=NullPool,
            connect_args={"server_settings": {"application_name": f"switchboard-wakeup-{self.channel}"}},
        )
        try:
            while not self._stopping.is_set():
                try:
                    async with engine.connect() as connection:
                        await self._hold(connection)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the database is away: poll on the fallback until it is back
                    log.warning("wakeup_listen_retry", channel=self.channel, error=type(exc).__name__)
                finally:
                    self._listening = False
                await asyncio.sleep(RECONNECT_SECONDS)
        finally:
            await engine.dispose()

    async def _hold(self, connection: AsyncConnection) -> None:
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        lost = asyncio.Event()
        raw.add_termination_listener(lambda _connection: lost.set())
        await raw.add_listener(self.channel, self._on_notify)
        self._listening = True
        # Rows may have been added while nobody listened: the worker looks once now.
        self._notified.set()
        while not lost.is_set() and not raw.is_closed():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), CHECK_SECONDS)
            if not lost.is_set():
                await asyncio.wait_for(raw.execute("SELECT 1"), CHECK_SECONDS)
