"""Side by side, in one process and interleaved (robust on a shared machine): the CPU the widget POST's Redis
step, the per-frame stream-key check and the per-request bearer-token check cost, as main had them before
issue 17's hot-path work and as now.

python -m bench.hotpath  (starts its own Valkey; prints a Markdown table)
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from switchboard_common.infra import tokens
from switchboard_common.infra.cache import KINDS, Keys
from switchboard_devstack.servers import RedisServer
from switchboard_gateway.ratelimit import RateLimiter

ROUNDS = 5
REQUESTS = 2000
CALLS = 20000


class PipelineLimiter(RateLimiter):
    """The earlier form: INCR, EXPIRE NX, TTL and the dedupe GET as a four-command pipeline."""

    async def hit_and_get(  # type: ignore[override]
        self, scope: str, key: str, *, limit: int, window_seconds: int, get: str | None
    ) -> tuple[int, Any]:
        name = self.keys.rate(scope, key)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.incr(name)
            pipe.expire(name, window_seconds, nx=True)
            pipe.ttl(name)
            if get is not None:
                pipe.get(get)
            count, _, _ttl, *value = await pipe.execute()
        return int(count), value[0] if value else None


def delivered_compiling(keys: Keys, stream: str) -> str:
    """The earlier ``Keys.delivered``: every kind's pattern built and tried per call."""
    if next((k for k in KINDS.values() if k.regex(keys.namespace).match(stream)), None) is None:
        raise ValueError("not a socket stream")
    return f"{keys.namespace}:pushed:{stream.removeprefix(keys.namespace + ':')}"


async def measure(url: str) -> list[tuple[str, float, str]]:
    redis = Redis.from_url(url, decode_responses=True)
    keys = Keys("hotpath")
    cpu = {PipelineLimiter: 0.0, RateLimiter: 0.0}
    try:
        for _ in range(ROUNDS):
            for limiter_class in cpu:
                started = time.process_time()
                for i in range(REQUESTS):
                    limiter = limiter_class(redis, keys, None)  # type: ignore[arg-type]  # one per request, as the view
                    await limiter.hit_and_get(
                        "widget-messages",
                        f"visitor{i % 50}",
                        limit=10**9,
                        window_seconds=60,
                        get=keys.widget_message(uuid.uuid4()),
                    )
                cpu[limiter_class] += time.process_time() - started
    finally:
        await redis.aclose()
    rows = [
        ("widget POST rate limit + dedupe read: 4-command pipeline (before)", cpu[PipelineLimiter], "request"),
        ("widget POST rate limit + dedupe read: one Lua command (now)", cpu[RateLimiter], "request"),
    ]
    rows = [(label, seconds * 1e6 / (ROUNDS * REQUESTS), unit) for label, seconds, unit in rows]
    stream = keys.agent_stream(uuid.uuid4())
    for label, call in (
        (
            "stream key check per pushed frame: patterns compiled per call (before)",
            lambda: delivered_compiling(keys, stream),
        ),
        ("stream key check per pushed frame: patterns compiled once (now)", lambda: keys.delivered(stream)),
    ):
        started = time.process_time()
        for _ in range(CALLS):
            call()
        rows.append((label, (time.process_time() - started) * 1e6 / CALLS, "frame"))
    rows += token_checks()
    return rows


def token_checks() -> list[tuple[str, float, str]]:
    """A visitor's bearer token checked on each of its requests (50 visitors, as the fixed-rate sweep)."""
    secret = "s" * 40
    visitor_tokens = [
        tokens.issue(secret, kind="visitor", subject=uuid.uuid4(), account_id=uuid.uuid4(), ttl_seconds=3600)
        for _ in range(50)
    ]
    cpu = {"before": 0.0, "now": 0.0}
    for _ in range(ROUNDS):
        for label, check in (("before", tokens._decode), ("now", tokens.decode)):
            started = time.process_time()
            for i in range(CALLS // ROUNDS):
                check(secret, visitor_tokens[i % 50])
            cpu[label] += time.process_time() - started
    return [
        ("bearer token check per request: PyJWT every time (before)", cpu["before"] * 1e6 / CALLS, "request"),
        ("bearer token check per request: verified once, expiry checked (now)", cpu["now"] * 1e6 / CALLS, "request"),
    ]


def main() -> None:
    server = RedisServer(Path(tempfile.mkdtemp(prefix="switchboard-hotpath-")) / "valkey", durable=False)
    server.start()
    try:
        rows = asyncio.run(measure(server.url()))
    finally:
        server.stop()
    print("| step | client CPU |\n| --- | --- |")
    for label, micros, unit in rows:
        print(f"| {label} | {micros:,.1f} µs per {unit} |")


if __name__ == "__main__":
    main()
