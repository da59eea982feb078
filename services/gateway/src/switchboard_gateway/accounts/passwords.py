"""Password hashing with argon2id in a small pool of worker processes at a lower CPU priority.

argon2 is deliberately expensive: run on the event loop, a burst of logins would stall every socket of the
replica. Worker threads were not enough either: 20 verifications a second with argon2-cffi's defaults (64 MiB,
3 passes, 4 lanes: about 200 ms of CPU each) need more than two cores, and the threads competed with the
event loop for the CPU and, at every hand-over, for the GIL. So:

- the parameters are OWASP's argon2id floor (19 MiB, 2 passes, 1 lane: about a sixth of the CPU), and a
  hash made with other parameters is replaced at the user's next successful login (``needs_rehash``);
- hashing runs in worker processes (no GIL shared with the loop) whose niceness is raised, so the kernel
  gives the CPU to the event loop -- and to every other service -- first, and logins take what is left;
- admission is bounded: at most ``max_pending`` hashes and verifications queued or running per replica;
  beyond that the request is refused at once with ``429 too_many_logins`` and ``Retry-After`` instead of
  waiting in a queue without bound.

The pool belongs to the gateway's lifespan (``app.state.passwords``); its processes start on first use (an app
that never checks a password spawns none) and stop with the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from switchboard_common.infra.errors import AppError

from switchboard_gateway.accounts import argon2_worker
from switchboard_gateway.accounts.argon2_worker import HashParameters

RETRY_AFTER_SECONDS = 1


@dataclass(frozen=True)
class Verification:
    matches: bool
    # The stored hash was made with other parameters: hash the password again and store that.
    needs_rehash: bool = False


def too_many_logins(max_pending: int) -> AppError:
    return AppError(
        429,
        "too_many_logins",
        "too many password checks in progress on this server; retry shortly",
        details={"retry_after_seconds": RETRY_AFTER_SECONDS, "max_pending": max_pending},
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


class PasswordHashing:
    """Hashes and verifies passwords in ``workers`` niced processes, at most ``max_pending`` at a time."""

    def __init__(
        self,
        parameters: HashParameters | None = None,
        *,
        workers: int = 1,
        max_pending: int = 16,
        niceness: int = 10,
    ) -> None:
        self.parameters = parameters or HashParameters()
        self.workers = workers
        self.max_pending = max_pending
        self.niceness = niceness
        self._checker = self.parameters.hasher()  # only parses stored hashes: never hashes on the loop
        self._pending = 0
        self._executor: ProcessPoolExecutor | None = None
        self._closed = False

    @property
    def pending(self) -> int:
        """Hashes and verifications queued or running now."""
        return self._pending

    def _pool(self) -> ProcessPoolExecutor:
        if self._closed:
            raise RuntimeError("the password pool is closed")
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                # A fresh interpreter per worker: forking a process that runs threads and an event loop is unsafe.
                mp_context=multiprocessing.get_context("spawn"),
                initializer=argon2_worker.start,
                initargs=(self.parameters, self.niceness, os.getpid()),
            )
        return self._executor

    def refuse_if_full(self) -> None:
        """Raises ``429 too_many_logins`` now if a check would be refused: a login flood is answered before
        it costs the throttle's and the database's round trips."""
        if self._pending >= self.max_pending:
            raise too_many_logins(self.max_pending)

    @contextlib.contextmanager
    def _admitted(self) -> Iterator[None]:
        self.refuse_if_full()
        self._pending += 1
        try:
            yield
        finally:
            self._pending -= 1

    async def hash(self, password: str) -> str:
        """The argon2id hash of ``password``. Raises ``429 too_many_logins`` when the pool is full."""
        with self._admitted():
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool(), argon2_worker.hash_password, password)

    async def verify(self, password_hash: str | None, password: str) -> Verification:
        """Whether ``password`` matches ``password_hash``; a missing hash (unknown user) costs the same and
        never matches. Raises ``429 too_many_logins`` when ``max_pending`` checks are already in hand."""
        with self._admitted():
            loop = asyncio.get_running_loop()
            matches = await loop.run_in_executor(self._pool(), argon2_worker.verify_password, password_hash, password)
        stale = matches and password_hash is not None and self._checker.check_needs_rehash(password_hash)
        return Verification(matches, needs_rehash=stale)

    async def close(self) -> None:
        """Stops the worker processes (work still queued is cancelled), waiting off the loop for them to exit."""
        self._closed = True
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)


async def get_passwords(request: Request) -> PasswordHashing:
    passwords: PasswordHashing = request.app.state.passwords  # set by the gateway's lifespan
    return passwords


PasswordsDep = Annotated[PasswordHashing, Depends(get_passwords)]
