"""Scenarios: each returns rows for the results table."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.harness import Deployment, RateResult, ServerProcess, open_loop, percentile

PASSWORD = "bench password 1"


@dataclass
class Row:
    scenario: str
    ours: str
    baseline: str
    ratio: str
    note: str = ""


OVERLOADED_PATIENCE_SECONDS = 300.0


class Api:
    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base

    async def post(self, path: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        deadline = time.monotonic() + OVERLOADED_PATIENCE_SECONDS
        while True:
            async with self.session.post(self.base + path, json=body, headers=headers) as response:
                data: dict[str, Any] = await response.json()
                # A saturated system (right after an overloaded step) refuses with 503 and Retry-After, a gateway
                # with too many password checks in hand with 429 too_many_logins, as documented: a client waits
                # and tries again.
                retryable = response.status == 503 or (
                    response.status == 429 and data.get("error", {}).get("code") == "too_many_logins"
                )
                if retryable and time.monotonic() < deadline:
                    await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                    continue
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


async def visitor_to_agent_latency(system: Deployment, rate: float, duration: float, visitors: int = 20) -> RateResult:
    """Visitor POST /widget/messages -> the assigned agent's socket frame, at a fixed rate."""
    result = RateResult()
    async with aiohttp.ClientSession() as session:
        api = Api(session, system.api_url)
        owner, widget_token = await api.tenant()
        agent_token = await api.agent(owner, capacity=1000)
        ws = await session.ws_connect(system.api_url.replace("http", "ws") + f"/api/v1/ws?token={agent_token}")
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


@dataclass
class Throughput:
    requests: int
    ok: int
    seconds: float

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


async def bare_throughput(bare: ServerProcess, total: int, concurrency: int) -> Throughput:
    from bench.harness import closed_loop

    body = json.dumps({"contact": {"external_id": "c"}, "message": {"id": "m", "text": "hello"}}).encode()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def fire(_i: int) -> bool:
            async with session.post(
                bare.url + "/bare", data=body, headers={"Content-Type": "application/json"}
            ) as response:
                await response.read()
                return response.status == 200

        seconds, ok = await closed_loop(concurrency, total, fire)
    return Throughput(total, ok, seconds)


async def api_channel_throughput(system: Deployment, total: int, concurrency: int) -> Throughput:
    """Signed API-channel webhooks, each a new message id, as fast as the server acknowledges them."""
    from switchboard_common.infra import signing

    from bench.harness import closed_loop

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        api = Api(session, system.api_url)
        owner, _ = await api.tenant()
        inbox = await api.post("/api/v1/inboxes", {"name": "API", "channel": "api", "settings": {}}, owner)
        url = f"{system.webhook_url}/webhooks/api/{inbox['id']}"
        run = uuid.uuid4().hex[:8]

        async def fire(i: int) -> bool:
            body = json.dumps(
                {"contact": {"external_id": f"c{i % 200}"}, "message": {"id": f"{run}-{i}", "text": f"bench {i}"}}
            ).encode()
            async with session.post(url, data=body, headers=signing.signed_headers(inbox["secret"], body)) as response:
                await response.read()
                return response.status in (200, 202)

        await closed_loop(concurrency, min(200, total), fire)  # warm-up: caches, connections, consumers
        run = uuid.uuid4().hex[:8]
        seconds, ok = await closed_loop(concurrency, total, fire)
    return Throughput(total, ok, seconds)


async def slack_throughput(
    system: Deployment, total: int, concurrency: int, signing_secret: str, fake_slack: Any
) -> Throughput:
    """Signed Slack Events API message events, each a new event id."""
    import hashlib
    import hmac

    from bench.harness import closed_loop

    team = "TB" + uuid.uuid4().hex[:8].upper()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        api = Api(session, system.api_url)
        owner, _ = await api.tenant()
        await api.post(
            "/api/v1/inboxes",
            {
                "name": "Slack",
                "channel": "slack",
                "settings": {
                    "team_id": team,
                    "channel_id": "CBENCH",
                    "bot_token": fake_slack.install("xoxb-bench-token", team),
                    "bot_user_id": "UBOT",
                },
            },
            owner,
        )
        run = uuid.uuid4().hex[:8]

        async def fire(i: int) -> bool:
            body = json.dumps(
                {
                    "type": "event_callback",
                    "team_id": team,
                    "event_id": f"Ev{run}{i}",
                    "event_time": int(time.time()),
                    "event": {
                        "type": "message",
                        "channel": "CBENCH",
                        "user": f"U{i % 200}",
                        "text": f"bench {i}",
                        "ts": f"1700000000.{i:06d}",
                    },
                }
            ).encode()
            ts = str(int(time.time()))
            sig = "v0=" + hmac.new(signing_secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
            async with session.post(
                system.webhook_url + "/webhooks/slack/events",
                data=body,
                headers={"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig, "Content-Type": "application/json"},
            ) as response:
                await response.read()
                return response.status == 200

        await closed_loop(concurrency, min(200, total), fire)
        run = uuid.uuid4().hex[:8]
        seconds, ok = await closed_loop(concurrency, total, fire)
    return Throughput(total, ok, seconds)


MESSENGER_BATCH = 3  # events per request: Meta batches entries and events, so the bench does too


async def messenger_throughput(
    system: Deployment, total: int, concurrency: int, app_secret: str, fake_graph: Any
) -> Throughput:
    """Signed Messenger webhooks (``X-Hub-Signature-256`` over the raw body), each a batch of new messages."""
    import hashlib
    import hmac

    from bench.harness import closed_loop

    page = str(uuid.uuid4().int % 10**15)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        api = Api(session, system.api_url)
        owner, _ = await api.tenant()
        await api.post(
            "/api/v1/inboxes",
            {
                "name": "Messenger",
                "channel": "messenger",
                "settings": {"page_id": page, "page_access_token": fake_graph.page_token(page)},
            },
            owner,
        )
        run = uuid.uuid4().hex[:8]

        async def fire(i: int) -> bool:
            now = int(time.time() * 1000)
            events = [
                {
                    "sender": {"id": str(10**12 + (i * MESSENGER_BATCH + n) % 200)},
                    "recipient": {"id": page},
                    "timestamp": now,
                    "message": {"mid": f"m_{run}_{i}_{n}", "text": f"bench {i} \u00e9"},
                }
                for n in range(MESSENGER_BATCH)
            ]
            # Two entries in one request, as Meta batches them: the first carries one event, the second the rest.
            entries = [
                {"id": page, "time": now, "messaging": events[:1]},
                {"id": page, "time": now, "messaging": events[1:]},
            ]
            body = json.dumps({"object": "page", "entry": entries}).encode()  # non-ASCII escaped, as Meta sends
            signature = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
            async with session.post(
                system.webhook_url + "/webhooks/messenger",
                data=body,
                headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"},
            ) as response:
                await response.read()
                return response.status == 200

        await closed_loop(concurrency, min(200, total), fire)
        run = uuid.uuid4().hex[:8]
        seconds, ok = await closed_loop(concurrency, total, fire)
    return Throughput(total, ok, seconds)


def throughput_row(scenario: str, ours: Throughput, base: Throughput, concurrency: int) -> Row:
    ratio = ours.rps / base.rps if base.rps else 0.0
    return Row(
        scenario=f"{scenario} (concurrency {concurrency})",
        ours=f"{ours.rps:.0f} req/s ({ours.ok}/{ours.requests} acknowledged)",
        baseline=f"{base.rps:.0f} req/s",
        ratio=f"{ratio:.2f} of bare",
        note="goal >= 0.5",
    )


async def login_load(
    system: Deployment,
    rate: float,
    ready: asyncio.Event,
    stop: asyncio.Event,
    accounts: int = 20,
    max_in_flight: int = 8,
) -> RateResult:
    """Correct-password logins at a fixed rate (argon2 verifies cost the same either way; right passwords keep
    the failure throttle out of it) over ``accounts`` agents, until ``stop`` is set. At most ``max_in_flight``
    wait at once: a tick finding them all busy is skipped and counted as an error (the row reports the rate
    achieved), so a slow machine shows a lower login rate rather than a queue that starves everything else.
    A login the gateway refuses at once (429 too_many_logins: its pool is full) is counted as refused, not
    retried: the next tick is the next attempt."""
    result = RateResult()
    async with aiohttp.ClientSession() as session:
        api = Api(session, system.api_url)
        owner, _ = await api.tenant()
        emails = []
        for _ in range(accounts):
            email = f"login-{uuid.uuid4().hex[:10]}@example.com"
            await api.post(
                "/api/v1/agents", {"email": email, "name": "Agent", "password": PASSWORD, "role": "agent"}, owner
            )
            emails.append(email)

        in_flight = asyncio.Semaphore(max_in_flight)

        async def fire(i: int) -> None:
            if in_flight.locked():  # the gateway is behind: a tick skipped, not an ever-growing backlog
                result.errors += 1
                return
            started = time.perf_counter()
            body = {"email": emails[i % accounts], "password": PASSWORD}
            try:
                async with in_flight, session.post(system.api_url + "/api/v1/auth/login", json=body) as response:
                    answer = await response.json()
                if response.status == 200:
                    result.latencies_ms.append((time.perf_counter() - started) * 1000)
                elif response.status == 429 and answer.get("error", {}).get("code") == "too_many_logins":
                    result.refused += 1
                else:
                    result.errors += 1
            except aiohttp.ClientError:
                result.errors += 1
            result.sent += 1

        interval, i, started = 1.0 / rate, 0, time.perf_counter()
        tasks: list[asyncio.Task[None]] = []
        ready.set()
        while not stop.is_set():
            tasks.append(asyncio.create_task(fire(i)))
            i += 1
            await asyncio.sleep(max(0.0, started + i * interval - time.perf_counter()))
        await asyncio.gather(*tasks)
        result.duration_s = time.perf_counter() - started
    return result


async def agent_socket_with_logins(
    system: Deployment, rate: float, duration: float, login_rate: float = 20.0
) -> tuple[RateResult, RateResult, RateResult]:
    """Visitor message -> agent socket at ``rate``, once alone and once while ``login_rate`` logins/s run against
    the same gateway (password hashing in a bounded worker pool must leave the sockets' p99 where it was).
    Returns (without logins, with logins, the logins)."""
    quiet = await visitor_to_agent_latency(system, rate, duration)
    ready, stop = asyncio.Event(), asyncio.Event()
    logins = asyncio.create_task(login_load(system, login_rate, ready, stop))
    try:
        # The login load's accounts exist and it runs at its rate before the measured run starts.
        await asyncio.wait_for(ready.wait(), 120)
        await asyncio.sleep(1.0)
        loaded = await visitor_to_agent_latency(system, rate, duration)
    except BaseException:
        logins.cancel()  # timed out or failed: the login load must not outlive the row
        raise
    finally:
        stop.set()
    return quiet, loaded, await logins


def login_interference_row(
    quiet: RateResult, loaded: RateResult, logins: RateResult, rate: float, login_rate: float = 20.0
) -> Row:
    q99, l99 = percentile(quiet.latencies_ms, 99), percentile(loaded.latencies_ms, 99)
    achieved = len(logins.latencies_ms) / logins.duration_s if logins.duration_s else 0.0
    return Row(
        scenario=f"agent-socket p99 with {login_rate:g} logins/s (vs without) @ {rate:g} msg/s",
        ours=f"p99 {l99:.1f} ms ({len(loaded.latencies_ms)}/{loaded.sent} delivered)",
        baseline=f"p99 {q99:.1f} ms ({len(quiet.latencies_ms)}/{quiet.sent} delivered)",
        ratio=f"{l99 / q99:.2f}x" if q99 else "-",
        note=(
            f"{achieved:.1f} logins/s logged in ({len(logins.latencies_ms)}), login p99 "
            f"{percentile(logins.latencies_ms, 99):.0f} ms, {logins.refused} refused at once (429 too_many_logins), "
            f"{logins.errors} skipped by the client or failed; argon2id (OWASP floor) in niced worker processes"
        ),
    )
