"""Side by side, in one process and interleaved (robust on a shared machine): how late an event loop that is
busy serving runs its callbacks while 20 password checks a second run beside it -- none, the earlier design
(argon2-cffi's default parameters in two worker threads) and the current one (argon2id at OWASP's floor in
niced worker processes, switchboard_gateway.accounts.passwords).

python -m bench.passwords  (no servers; prints a Markdown table)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from switchboard_gateway.accounts.passwords import PasswordHashing

from bench.harness import percentile

ROUNDS = 3
SECONDS = 8.0
CHECKS_PER_SECOND = 20.0
MAX_IN_FLIGHT = 8  # as the bench's login load: a tick finding 8 checks waiting is skipped
TICK = 0.005
PASSWORD = "correct horse battery"

Check = Callable[[], Awaitable[bool]]


def _thread_design() -> tuple[Check, Callable[[], None]]:
    hasher = PasswordHasher()  # argon2-cffi's defaults: 64 MiB, 3 passes, 4 lanes
    stored = hasher.hash(PASSWORD)
    pool = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="argon2")

    def verify() -> bool:
        try:
            return hasher.verify(stored, PASSWORD)
        except VerifyMismatchError:
            return False

    async def check() -> bool:
        return await asyncio.get_running_loop().run_in_executor(pool, verify)

    return check, lambda: pool.shutdown(wait=True)


async def _process_design(niceness: int = 10) -> tuple[Check, PasswordHashing]:
    passwords = PasswordHashing(niceness=niceness)  # otherwise the gateway's defaults
    stored = await passwords.hash(PASSWORD)

    async def check() -> bool:
        return (await passwords.verify(stored, PASSWORD)).matches

    return check, passwords


@contextlib.asynccontextmanager
async def _checks(check: Check | None) -> AsyncIterator[list[int]]:
    """Runs ``check`` at CHECKS_PER_SECOND in the background; yields [done, skipped]."""
    counts = [0, 0]
    if check is None:
        yield counts
        return
    in_flight: set[asyncio.Task[bool]] = set()

    async def generate() -> None:
        started, i = time.perf_counter(), 0
        while True:
            if len(in_flight) >= MAX_IN_FLIGHT:
                counts[1] += 1
            else:
                task = asyncio.create_task(check())
                in_flight.add(task)
                task.add_done_callback(lambda t: (in_flight.discard(t), counts.__setitem__(0, counts[0] + 1)))
            i += 1
            await asyncio.sleep(max(0.0, started + i / CHECKS_PER_SECOND - time.perf_counter()))

    generator = asyncio.create_task(generate())
    try:
        yield counts
    finally:
        generator.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await generator
        await asyncio.gather(*in_flight, return_exceptions=True)


async def _loop_lag(seconds: float) -> list[float]:
    """Callback lateness in ms of a loop that also does ~1 ms of Python work per tick (as a serving one does)."""
    document = {"conversation": "c" * 64, "messages": [{"text": "hello" * 20, "n": n} for n in range(40)]}
    lags, deadline = [], time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        json.loads(json.dumps(document))
        expected = time.perf_counter() + TICK
        await asyncio.sleep(TICK)
        lags.append((time.perf_counter() - expected) * 1000)
    return lags


async def measure() -> dict[str, tuple[list[float], int, int]]:
    thread_check, stop_threads = _thread_design()
    process_check, passwords = await _process_design()
    nicest_check, nicest = await _process_design(niceness=19)
    designs: dict[str, Check | None] = {
        "no password checks": None,
        "before: argon2-cffi defaults in 2 threads": thread_check,
        "now: OWASP floor in 2 processes at niceness 10": process_check,
        "the same at niceness 19": nicest_check,
    }
    results: dict[str, tuple[list[float], int, int]] = {name: ([], 0, 0) for name in designs}
    try:
        for _ in range(ROUNDS):
            for name, check in designs.items():
                async with _checks(check) as counts:
                    await asyncio.sleep(0.5)  # the checks are running at their rate
                    done, skipped = counts
                    lags = await _loop_lag(SECONDS)
                    done, skipped = counts[0] - done, counts[1] - skipped
                previous = results[name]
                results[name] = (previous[0] + lags, previous[1] + done, previous[2] + skipped)
    finally:
        stop_threads()
        await passwords.close()
        await nicest.close()
    return results


def table(results: dict[str, tuple[list[float], int, int]]) -> str:
    quiet = percentile(results["no password checks"][0], 99)
    lines = [
        f"Event-loop lateness while {CHECKS_PER_SECOND:g} password checks/s are asked for ({ROUNDS} interleaved rounds "
        f"of {SECONDS:g} s, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}):",
        "",
        "| design | loop lateness p50 / p99 | p99 vs none | checks done | ticks skipped (8 waiting) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, (lags, done, skipped) in results.items():
        p99 = percentile(lags, 99)
        lines.append(
            f"| {name} | {percentile(lags, 50):.2f} / {p99:.2f} ms | {p99 / quiet:.2f}x | "
            f"{done / (ROUNDS * SECONDS):.1f}/s | {skipped} |"
        )
    return "\n".join(lines)


def main() -> None:
    print(table(asyncio.run(measure())))


if __name__ == "__main__":
    main()
