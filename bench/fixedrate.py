"""The fixed-rate (open-loop) client, in a process of its own: visitors post widget messages at a fixed rate,
whatever the server answers, and one agent's socket times each message from its POST to its frame.

Open loop: a send is due at ``start + i / rate`` and goes out then even when earlier requests are still
waiting, so a server that falls behind shows as latency and losses, never as a politely slower client.
A message is lost when it is not on the agent's socket ``settle`` seconds after sending stopped.

Before the first step the stack is warmed up, unmeasured: every process answers /readyz 200 (its consumer
groups joined and hold their partitions), a probe message makes the round trip to the agent's socket, and the
first rate runs ``warmup_seconds`` until its messages are all on the socket. Without it the first step measured
a stack still warming up (connection pools opening, first polls of each group, caches filling).

python -m bench.fixedrate PLAN.json RESULT.json     (the plan: bench.knee.Plan)
Prints "BEGIN" when the timed phase starts and "END" when sending stops (the bench samples CPU there).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.harness import percentile

WARMUP_SECONDS = 60.0
READY_TIMEOUT_SECONDS = 120.0
PROBE_TIMEOUT_SECONDS = 30.0


def fr_marker(run: str, step: str, seq: int) -> str:
    return f"fr {run} {step} {seq}"


class AgentSocket:
    """The one agent's socket: the first time each marker shows (assignment backlog or live message)."""

    def __init__(self, session: aiohttp.ClientSession, url: str, token: str, prefix: str) -> None:
        self.session = session
        self.url = url.replace("http://", "ws://", 1) + f"/api/v1/ws?token={token}"
        self.prefix = prefix
        self.arrived: dict[str, float] = {}
        self.duplicates = 0
        self.ready = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    def _texts(self, frame: dict[str, Any]) -> list[str]:
        if frame.get("type") == "conversation.assigned":
            return [str(m.get("text")) for m in frame.get("messages") or [] if m.get("direction") == "inbound"]
        if frame.get("type") == "message.created" and (frame.get("message") or {}).get("direction") == "inbound":
            return [str(frame["message"].get("text"))]
        return []

    async def _run(self) -> None:
        last: str | None = None
        while True:
            url = self.url + (f"&last_event_id={last}" if last else "")
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                async with self.session.ws_connect(url, max_msg_size=0) as socket:
                    async for message in socket:
                        if message.type != aiohttp.WSMsgType.TEXT:
                            continue
                        now = time.perf_counter()
                        frame = json.loads(message.data)
                        if frame.get("type") == "session.ready":
                            last = last or frame.get("last_event_id")
                            self.ready.set()
                        last = frame.get("id") or last
                        for text in self._texts(frame):
                            if not text.startswith(self.prefix):
                                continue
                            if text in self.arrived:
                                self.duplicates += 1
                            else:
                                self.arrived[text] = now
            await asyncio.sleep(0.1)

    async def wait_for(self, texts: list[str], timeout: float) -> bool:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if all(t in self.arrived for t in texts):
                return True
            await asyncio.sleep(0.02)
        return False

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(BaseException):
            await self.task


async def until_ready(session: aiohttp.ClientSession, urls: list[str], timeout: float = READY_TIMEOUT_SECONDS) -> float:
    """Until every process answers ``GET /readyz`` 200 (its dependencies answer and every consumer group of it
    has joined and holds its partitions); the seconds it took. TimeoutError past ``timeout``."""
    started = time.perf_counter()
    pending = list(urls)
    while pending:
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"not ready after {timeout:g} s: {', '.join(pending)}")
        still = []
        for url in pending:
            try:
                async with session.get(f"{url}/readyz") as response:
                    await response.read()
                    if response.status != 200:
                        still.append(url)
            except (aiohttp.ClientError, OSError, TimeoutError):
                still.append(url)
        pending = still
        if pending:
            await asyncio.sleep(0.2)
    return time.perf_counter() - started


async def post(session: aiohttp.ClientSession, url: str, token: str, text: str, client_id: str) -> int:
    body = json.dumps({"text": text, "client_message_id": client_id}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            return response.status
    except (aiohttp.ClientError, OSError, TimeoutError):
        return 0


async def drive(plan: dict[str, Any]) -> dict[str, Any]:
    run, url, visitors = plan["run"], plan["url"], plan["visitor_tokens"]
    connector = aiohttp.TCPConnector(limit=plan.get("connections", 512), limit_per_host=0, keepalive_timeout=3)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        agent = AgentSocket(session, url, plan["agent_token"], f"fr {run} ")
        await asyncio.wait_for(agent.ready.wait(), 120)
        post_url = f"{url}/api/v1/widget/messages"
        results: dict[str, Any] = {}
        if plan.get("warmup_seconds", 0) > 0:
            results["warmup"] = await warm_up(session, agent, plan, post_url)
        for step, rate in enumerate(plan["rates"]):
            # Warm-up: every visitor's conversation exists and is assigned before the clock starts.
            warm = [fr_marker(run, f"w{step}", n) for n in range(len(visitors))]
            await asyncio.gather(
                *(post(session, post_url, token, text, text) for token, text in zip(visitors, warm, strict=True))
            )
            warmed = await agent.wait_for(warm, WARMUP_SECONDS)
            results[str(rate)] = await one_rate(session, agent, plan, post_url, step, rate, warmed)
        await agent.close()
    return results


async def warm_up(
    session: aiohttp.ClientSession, agent: AgentSocket, plan: dict[str, Any], post_url: str
) -> dict[str, Any]:
    """Unmeasured, before the first step: every process ready, a probe's round trip, then the first rate for
    ``warmup_seconds`` until its messages are on the socket (or ``WARMUP_SECONDS`` passed)."""
    run, visitors = plan["run"], plan["visitor_tokens"]
    ready_seconds = await until_ready(session, plan.get("ready_urls") or [plan["url"]])
    probe = fr_marker(run, "probe", 0)
    started = time.perf_counter()
    status = await post(session, post_url, visitors[0], probe, probe)
    if status != 202 or not await agent.wait_for([probe], PROBE_TIMEOUT_SECONDS):
        raise RuntimeError(f"the probe message did not make the round trip (POST answered {status})")
    probe_ms = (time.perf_counter() - started) * 1000
    rate = plan["rates"][0]
    warm = await one_rate(
        session, agent, {**plan, "duration": plan["warmup_seconds"], "settle": WARMUP_SECONDS},
        post_url, "warmup", rate, True, announce=False,
    )  # fmt: skip
    return {"ready_seconds": ready_seconds, "probe_ms": probe_ms, **warm}


async def one_rate(
    session: aiohttp.ClientSession,
    agent: AgentSocket,
    plan: dict[str, Any],
    post_url: str,
    step: int | str,
    rate: float,
    warmed: bool,
    *,
    announce: bool = True,
) -> dict[str, Any]:
    run, visitors, duration = plan["run"], plan["visitor_tokens"], plan["duration"]
    total = int(rate * duration)
    sent_at = [math.nan] * total
    acked_ms: list[float] = []
    statuses: dict[int, int] = {}

    async def fire(i: int) -> None:
        text = fr_marker(run, str(step), i)
        sent_at[i] = time.perf_counter()
        status = await post(session, post_url, visitors[i % len(visitors)], text, text)
        statuses[status] = statuses.get(status, 0) + 1
        if status != 202:
            rejected.add(i)
        else:
            acked_ms.append((time.perf_counter() - sent_at[i]) * 1000)

    rejected: set[int] = set()
    if announce:
        print("BEGIN", flush=True)
    start = time.perf_counter()
    tasks = []
    for i in range(total):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(fire(i)))
    sending_stopped = time.perf_counter()
    if announce:
        print("END", flush=True)
    await asyncio.gather(*tasks)
    settle_until = sending_stopped + plan["settle"]
    texts = [fr_marker(run, str(step), i) for i in range(total)]
    while time.perf_counter() < settle_until and not all(t in agent.arrived for t in texts):
        await asyncio.sleep(0.05)
    latencies = [
        (agent.arrived[t] - sent_at[i]) * 1000 for i, t in enumerate(texts) if i not in rejected and t in agent.arrived
    ]
    lost = sum(1 for i, t in enumerate(texts) if i not in rejected and t not in agent.arrived)
    return {
        "rate": rate,
        "sent": total,
        "seconds": sending_stopped - start,
        "achieved_rate": total / (sending_stopped - start),
        "rejected": len(rejected),
        "statuses": statuses,
        "lost": lost,
        "delivered": len(latencies),
        "duplicates": agent.duplicates,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        # The POST's own answer: latency above it is the pipeline behind the acknowledgement.
        "ack_p50_ms": percentile(acked_ms, 50),
        "ack_p99_ms": percentile(acked_ms, 99),
        "max_ms": max(latencies, default=math.nan),
        "warmed": warmed,
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m bench.fixedrate PLAN.json RESULT.json", file=sys.stderr)
        return 2
    plan = json.loads(Path(args[0]).read_text())
    Path(args[1]).write_text(json.dumps(asyncio.run(drive(plan))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
