"""Scenarios: each returns rows for the results table."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.harness import RateResult, ServerProcess, open_loop, percentile

PASSWORD = "bench password 1"


@dataclass
class Row:
    scenario: str
    ours: str
    baseline: str
    ratio: str
    note: str = ""


class Api:
    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base

    async def post(self, path: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.session.post(self.base + path, json=body, headers=headers) as response:
            data: dict[str, Any] = await response.json()
            if response.status >= 300:
                raise RuntimeError(f"{path}: {response.status} {data}")
            return data

    async def tenant(self) -> tuple[str, str]:
        """Signs up an account; returns (owner token, web inbox widget token)."""
        email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
        await self.post("/api/v1/signup", {"account_name": "Bench", "email": email, "password": PASSWORD})
        token = (await self.post("/api/v1/auth/login", {"email": email, "password": PASSWORD}))["access_token"]
        inbox = await self.post("/api/v1/inboxes", {"name": "Bench", "channel": "web"}, token)
        return token, inbox["widget_token"]

    async def agent(self, owner_token: str, capacity: int) -> str:
        email = f"agent-{uuid.uuid4().hex[:10]}@example.com"
        await self.post(
            "/api/v1/agents",
            {"email": email, "name": "Agent", "password": PASSWORD, "role": "agent", "max_conversations": capacity},
            owner_token,
        )
        return str((await self.post("/api/v1/auth/login", {"email": email, "password": PASSWORD}))["access_token"])


async def bare_latency(bare: ServerProcess, rate: float, duration: float) -> RateResult:
    result = RateResult()
    async with aiohttp.ClientSession() as session:

        async def fire(i: int) -> None:
            started = time.perf_counter()
            try:
                async with session.post(bare.url + "/bare", json={"text": f"bench {i}"}) as response:
                    await response.read()
                    ok = response.status == 200
            except aiohttp.ClientError:
                ok = False
            result.sent += 1
            if ok:
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
            else:
                result.errors += 1

        result.duration_s = await open_loop(rate, duration, fire)
    return result


async def visitor_to_agent_latency(
    system: ServerProcess, rate: float, duration: float, visitors: int = 20
) -> RateResult:
    """Visitor POST /widget/messages -> the assigned agent's socket frame, at a fixed rate."""
    result = RateResult()
    async with aiohttp.ClientSession() as session:
        api = Api(session, system.url)
        owner, widget_token = await api.tenant()
        agent_token = await api.agent(owner, capacity=1000)
        ws = await session.ws_connect(system.url.replace("http", "ws") + f"/api/v1/ws?token={agent_token}")
        sent_at: dict[str, float] = {}
        arrived: dict[str, float] = {}
        assigned: set[str] = set()
        got_all_assigned = asyncio.Event()

        async def read() -> None:
            async for message in ws:
                frame = json.loads(message.data)
                now = time.perf_counter()
                if frame["type"] == "conversation.assigned":
                    assigned.add(frame["conversation_id"])
                    if len(assigned) >= visitors:
                        got_all_assigned.set()
                elif frame["type"] == "message.created":
                    arrived.setdefault(frame["message"]["text"], now)

        reader = asyncio.create_task(read())
        tokens: list[str] = []
        for _ in range(visitors):
            visitor = await api.post("/api/v1/widget/sessions", {"widget_token": widget_token})
            tokens.append(visitor["visitor_token"])
            await api.post("/api/v1/widget/messages", {"text": "warm-up"}, visitor["visitor_token"])
        await asyncio.wait_for(got_all_assigned.wait(), 60)

        async def fire(i: int) -> None:
            text = f"bench {i}"
            sent_at[text] = time.perf_counter()
            try:
                await api.post(
                    "/api/v1/widget/messages", {"text": text, "client_message_id": f"m{i}"}, tokens[i % visitors]
                )
            except (RuntimeError, aiohttp.ClientError):
                result.errors += 1

        result.duration_s = await open_loop(rate, duration, fire)
        deadline = time.perf_counter() + 30
        while len(arrived) < len(sent_at) - result.errors and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
        reader.cancel()
        await ws.close()
        result.sent = len(sent_at)
        result.latencies_ms = [(arrived[t] - sent_at[t]) * 1000 for t in sent_at if t in arrived]
        result.errors += len(sent_at) - len(result.latencies_ms) - result.errors
    return result


def latency_row(scenario: str, ours: RateResult, base: RateResult, rate: float) -> Row:
    p50, p99 = percentile(ours.latencies_ms, 50), percentile(ours.latencies_ms, 99)
    b50, b99 = percentile(base.latencies_ms, 50), percentile(base.latencies_ms, 99)
    return Row(
        scenario=f"{scenario} @ {rate:g}/s",
        ours=f"p50 {p50:.1f} ms, p99 {p99:.1f} ms ({len(ours.latencies_ms)}/{ours.sent} delivered)",
        baseline=f"p50 {b50:.1f} ms, p99 {b99:.1f} ms",
        ratio=f"p50 x{p50 / b50:.1f}, p99 x{p99 / b99:.1f}",
    )
