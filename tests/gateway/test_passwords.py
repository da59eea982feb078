"""argon2 runs in a bounded pool of worker threads: the event loop keeps serving while passwords are hashed,
and a burst of logins never runs more hashes at once than the pool has workers."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from switchboard_gateway.accounts import passwords


async def test_the_event_loop_keeps_running_while_a_password_is_verified() -> None:
    stored = await passwords.hash_password("correct horse battery")
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = ticks
    assert await passwords.verify_password(stored, "correct horse battery")
    done.set()
    await task
    # Other coroutines ran while argon2 worked: it did not hold the loop.
    assert ticks > before + 1
    assert not await passwords.verify_password(stored, "wrong")
    assert not await passwords.verify_password(None, "anything")


async def test_a_burst_runs_at_most_the_pool_size_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    running, peak, threads = 0, 0, set()
    lock = threading.Lock()
    real = passwords._hasher

    class Counting:
        def verify(self, stored: str, password: str) -> Any:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
                threads.add(threading.current_thread().name)
            try:
                return real.verify(stored, password)
            finally:
                with lock:
                    running -= 1

        def hash(self, password: str) -> str:
            return real.hash(password)

    stored = await passwords.hash_password("pw")
    monkeypatch.setattr(passwords, "_hasher", Counting())
    results = await asyncio.gather(*(passwords.verify_password(stored, "pw") for _ in range(3 * passwords.WORKERS)))
    assert all(results)
    assert 1 <= peak <= passwords.WORKERS
    assert threading.current_thread().name not in threads and all(t.startswith("argon2") for t in threads)
