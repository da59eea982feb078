"""Scenarios: each returns rows for the results table."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp
from switchboard_devstack.processes import child_pids, tree_cpu_seconds

from bench.costs import start_recording, stop_recording, top_functions
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


def _login_process(
    api_url: str,
    rate: float,
    accounts: int,
    max_in_flight: int,
    ready: EventLike,
    stop: EventLike,
    results: QueueLike,
    logged_in: CounterLike,
) -> None:
    """The login load's own process (spawned): its client CPU never competes with the socket measurement's
    event loop, so the row measures the gateway, not the bench client."""
    results.put(asyncio.run(_login_load(api_url, rate, accounts, max_in_flight, ready, stop, logged_in)))


class EventLike(Protocol):
    def set(self) -> None: ...
    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


class CounterLike(Protocol):
    value: int

    def get_lock(self) -> Any: ...


class QueueLike(Protocol):
    def put(self, obj: Any) -> None: ...
    def get(self, block: bool = True, timeout: float | None = None) -> Any: ...


async def _login_load(
    api_url: str,
    rate: float,
    accounts: int,
    max_in_flight: int,
    ready: EventLike,
    stop: EventLike,
    logged_in: CounterLike,
) -> RateResult:
    result = RateResult()
    # One connection per login in flight, kept open: a new TCP handshake per login is client work, not the
    # gateway's.
    connector = aiohttp.TCPConnector(limit=max_in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:
        api = Api(session, api_url)
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
                async with in_flight, session.post(api_url + "/api/v1/auth/login", json=body) as response:
                    answer = await response.json()
                if response.status == 200:
                    result.latencies_ms.append((time.perf_counter() - started) * 1000)
                    with logged_in.get_lock():
                        logged_in.value += 1
                elif response.status == 429 and answer.get("error", {}).get("code") == "too_many_logins":
                    result.refused += 1
                else:
                    result.errors += 1
            except aiohttp.ClientError:
                result.errors += 1
            result.sent += 1

        # Warm: the gateway's hashing workers start at the first check, and every connection is open.
        await asyncio.gather(*(fire(i) for i in range(max_in_flight)))
        result = RateResult()
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


class LoginLoad:
    """Correct-password logins at a fixed rate (argon2 verifies cost the same either way; right passwords keep
    the failure throttle out of it) over ``accounts`` agents, from a process of its own, until :meth:`stop`.
    At most ``max_in_flight`` wait at once (the gateway's bound, ``PASSWORD_HASH_MAX_PENDING``): a tick finding
    them all busy is skipped and counted as an error (the row reports the rate achieved), so a slow machine
    shows a lower login rate rather than a queue that starves everything else. A login the gateway refuses at
    once (429 too_many_logins: its pool is full) is counted as refused, not retried."""

    def __init__(self, api_url: str, rate: float, accounts: int = 20, max_in_flight: int = 16) -> None:
        context = multiprocessing.get_context("spawn")
        self._ready, self._stop = context.Event(), context.Event()
        self._results: QueueLike = context.Queue()
        self._logged_in: CounterLike = context.Value("q", 0)
        self._process = context.Process(
            target=_login_process,
            args=(api_url, rate, accounts, max_in_flight, self._ready, self._stop, self._results, self._logged_in),
            daemon=True,
        )

    async def start(self, timeout: float = 120.0) -> None:
        """Starts the process; returns once its accounts exist and it runs at its rate."""
        self._process.start()
        if not await asyncio.to_thread(self._ready.wait, timeout):
            self.kill()
            raise TimeoutError("the login load did not start")

    @property
    def logged_in(self) -> int:
        """Logins answered 200 so far (warm-up included)."""
        return int(self._logged_in.value)

    async def stop(self, timeout: float = 60.0) -> RateResult:
        self._stop.set()
        try:
            result: RateResult = await asyncio.to_thread(self._results.get, True, timeout)
        finally:
            self.kill()
        return result

    def kill(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join(10)


@dataclass
class CpuWindow:
    """CPU seconds of the gateway's own process (its event loop and threads) and of its children (the
    argon2 workers) over one measured run."""

    seconds: float = 0.0
    gateway: float = 0.0
    hashers: float = 0.0


class CpuMeter:
    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self._started = (0.0, 0.0, 0.0)

    def _now(self) -> tuple[float, float, float]:
        if self.pid is None:
            return time.perf_counter(), 0.0, 0.0
        tree = tree_cpu_seconds(self.pid)
        children = sum(tree_cpu_seconds(child) for child in child_pids(self.pid))
        return time.perf_counter(), tree - children, children

    def start(self) -> None:
        self._started = self._now()

    def stop(self) -> CpuWindow:
        now = self._now()
        return CpuWindow(*(b - a for a, b in zip(self._started, now, strict=True)))


LOGIN_COST_SECONDS = 5.0
LOGIN_FRAME = "(switchboard_gateway/accounts/login.py:"  # frames of the login flow


@dataclass
class LoginRun:
    quiet: RateResult
    loaded: RateResult
    logins: RateResult
    quiet_cpu: CpuWindow
    loaded_cpu: CpuWindow
    # The gateway with nothing to do (its background workers), and serving logins alone (no socket load).
    idle_cpu: CpuWindow
    logins_cpu: CpuWindow
    logins_alone: int


async def agent_socket_with_logins(
    system: Deployment, rate: float, duration: float, login_rate: float = 20.0, profile: Path | None = None
) -> LoginRun:
    """Visitor message -> agent socket at ``rate``, once alone and once while ``login_rate`` logins/s run against
    the same gateway (password hashing in a bounded worker pool must leave the sockets' p99 where it was), with
    the gateway's CPU (own and its hashers') in each run. With ``profile`` (a path without suffix), py-spy records
    the gateway process during the loaded run into ``<profile>.txt`` (a table of functions, idle excluded)."""
    gateway_pid = system.processes["gateway"].pid
    meter = CpuMeter(gateway_pid)
    meter.start()
    await asyncio.sleep(LOGIN_COST_SECONDS)
    idle_cpu = meter.stop()
    meter.start()
    quiet = await visitor_to_agent_latency(system, rate, duration)
    quiet_cpu = meter.stop()
    load = LoginLoad(system.api_url, login_rate)
    try:
        await load.start()
        await asyncio.sleep(1.0)
        spy = start_recording(gateway_pid, profile.with_suffix(".folded")) if profile is not None else None
        # The logins alone first: what one costs the gateway's process (event loop) and its argon2 workers, in
        # CPU seconds, which a busy machine stretches far less than it stretches latencies.
        before = load.logged_in
        meter.start()
        await asyncio.sleep(LOGIN_COST_SECONDS)
        logins_cpu, logins_alone = meter.stop(), load.logged_in - before
        meter.start()
        try:
            loaded = await visitor_to_agent_latency(system, rate, duration)
        finally:
            loaded_cpu = meter.stop()
            if spy is not None and profile is not None:
                _stop_py_spy(spy, profile)
    except BaseException:
        load.kill()  # timed out or failed: the login load must not outlive the row
        raise
    return LoginRun(quiet, loaded, await load.stop(), quiet_cpu, loaded_cpu, idle_cpu, logins_cpu, logins_alone)


def _stop_py_spy(spy: subprocess.Popen[bytes], profile: Path) -> None:
    stop_recording(spy)
    folded = profile.with_suffix(".folded")
    if folded.exists():  # the tables are kept; the stacks themselves are megabytes
        stacks = folded.read_text()
        profile.with_suffix(".txt").write_text(top_functions(stacks, limit=60))
        # The samples that ran a login's own code on the loop (the endpoint's coroutine on the stack).
        login = "\n".join(line for line in stacks.splitlines() if LOGIN_FRAME in line)
        profile.with_name(profile.name + "-login.txt").write_text(
            f"of {sum(int(line.rpartition(' ')[2]) for line in stacks.splitlines() if line.strip())} samples "
            "of the gateway process in all\n" + top_functions(login, limit=60)
        )
        folded.unlink()


def _cores(window: CpuWindow, part: float) -> float:
    return part / window.seconds if window.seconds else 0.0


def login_interference_row(run: LoginRun, rate: float, login_rate: float = 20.0) -> Row:
    quiet, loaded, logins = run.quiet, run.loaded, run.logins
    q99, l99 = percentile(quiet.latencies_ms, 99), percentile(loaded.latencies_ms, 99)
    achieved = len(logins.latencies_ms) / logins.duration_s if logins.duration_s else 0.0
    # What one login cost, from the window with logins alone: the gateway's own process (event loop, beyond
    # what it burns idle) and its argon2 workers.
    per_login = ""
    if run.logins_alone:
        loop = run.logins_cpu.gateway - _cores(run.idle_cpu, run.idle_cpu.gateway) * run.logins_cpu.seconds
        per_login = (
            f"; one login: {1000 * loop / run.logins_alone:.1f} ms of gateway event-loop CPU, "
            f"{1000 * run.logins_cpu.hashers / run.logins_alone:.1f} ms in its argon2 workers"
        )
    return Row(
        scenario=f"agent-socket p99 with {login_rate:g} logins/s (vs without) @ {rate:g} msg/s",
        ours=f"p99 {l99:.1f} ms ({len(loaded.latencies_ms)}/{loaded.sent} delivered)",
        baseline=f"p99 {q99:.1f} ms ({len(quiet.latencies_ms)}/{quiet.sent} delivered)",
        ratio=f"{l99 / q99:.2f}x" if q99 else "-",
        note=(
            f"{achieved:.1f} logins/s logged in ({len(logins.latencies_ms)}), login p99 "
            f"{percentile(logins.latencies_ms, 99):.0f} ms, {logins.refused} refused at once (429 too_many_logins), "
            f"{logins.errors} skipped by the client or failed; gateway process "
            f"{_cores(run.quiet_cpu, run.quiet_cpu.gateway):.2f} cores without logins, "
            f"{_cores(run.loaded_cpu, run.loaded_cpu.gateway):.2f} with, its argon2 workers "
            f"{_cores(run.loaded_cpu, run.loaded_cpu.hashers):.2f}{per_login}"
        ),
    )
