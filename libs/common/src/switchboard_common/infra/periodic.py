"""Background loops that do one bounded piece of work every few seconds (queue draining, the outbox relay,
retention and lifecycle sweeps): one shape, so each only says what a tick does."""

from __future__ import annotations

import abc
import asyncio
import contextlib

import structlog

log = structlog.get_logger(__name__)


class PeriodicWorker(abc.ABC):
    """Calls ``tick`` every ``interval`` seconds until stopped (a service worker: start/stop).

    A failing tick is logged by exception class only (messages may quote personal data) and the loop goes
    on: the next tick retries. Stopping lets the tick in hand finish, within ``stop_timeout`` seconds."""

    name = "periodic"
    stop_timeout = 15.0
    # The process role that runs it (BackgroundWorkers.select, ``--workers``); "shared": every process.
    role = "shared"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @abc.abstractmethod
    async def tick(self) -> object:
        """One bounded piece of work; long ones check ``stopping`` between batches."""

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, self.stop_timeout)

    async def pause(self, result: object) -> None:
        """Between ticks (``result``: what the tick returned, None when it failed): ``interval`` seconds, or
        until stopped. A worker with a better signal of work to do (a due time, a wake-up) overrides it."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self.interval)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            result: object = None
            try:
                result = await self.tick()
            except Exception as exc:
                log.warning("periodic_tick_failed", worker=self.name, error=type(exc).__name__)
            await self.pause(result)
