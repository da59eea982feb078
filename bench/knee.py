"""Fixed-rate runs of both layouts: latency from the visitor's POST to the agent's socket against the rate,
the knee (the highest rate with p99 <= 100 ms and nothing lost), CPU milliseconds per message of every
process, flame graphs of the services, the widget and API-channel acknowledgement under wrk against a bare
FastAPI endpoint, the first message after start, and each service's peak memory.

Layouts:
* ``make run``: the command users type (``python -m switchboard_devstack run``) with its own servers.
* ``processes``: each service its own OS process (``python -m switchboard_<service>``), as Kubernetes runs
  them, on local servers the bench starts.

python -m bench.load --sweep [--layouts make-run,processes] [--rates 100,200,...] [--step-seconds 20]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from switchboard_devstack import LocalStack, free_port
from switchboard_devstack.processes import ServiceProcess

from bench.costs import Profiler, Watched, classify, python_services
from bench.harness import ROOT, spawn_bare, wait_ready
from bench.scenarios import Api

SECTION = "## Fixed-rate load"
PLOT = Path(__file__).parent / "latency_vs_rate.png"
KNEE_P99_MS = 100.0
CLIENT = "load client"
VISITORS = 50
LIMITS = {"WIDGET_MESSAGES_PER_MINUTE": "1000000", "WIDGET_SESSIONS_PER_10_MINUTES": "1000000"}
SERVICES = ("gateway", "connectors", "router", "privacy")


@dataclass
class SweepConfig:
    layouts: tuple[str, ...] = ("make-run", "processes")
    rates: tuple[float, ...] = (100, 200, 300, 400, 500, 600, 800)
    step_seconds: float = 20.0
    settle: float = 3.0
    # Unmeasured, before the first step: every process ready, a probe's round trip, then the first rate for
    # this long (bench.fixedrate.warm_up).
    warmup_seconds: float = 10.0
    reference_rate: float = 200.0  # CPU per message and profiles are taken at this rate
    sustain_rate: float = 500.0  # make run: one long run at this rate
    sustain_seconds: float = 60.0
    wrk_seconds: float = 10.0
    wrk_connections: int = 32
    profile: bool = True
    # Profiles are written as bench/profiles/<profile_prefix><layout>-<service>.{svg,txt} (bench.groups labels
    # its own runs, so the sweep's profiles stay the sweep's).
    profile_prefix: str = ""


@dataclass
class LayoutResult:
    name: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    cpu_ms_per_message: dict[str, float] = field(default_factory=dict)
    reference_rate: float = 0.0
    sustain: dict[str, Any] | None = None
    first_message_ms: float = math.nan
    ready_seconds: float = math.nan
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    # req/s (bare, widget, api) and CPU ms per acknowledged request (bare_cpu_ms, widget_cpu_ms, ...)
    ack: dict[str, float] = field(default_factory=dict)
    warmup: dict[str, Any] = field(default_factory=dict)  # bench.fixedrate.warm_up's figures

    @property
    def knee(self) -> float:
        good = [s["rate"] for s in self.steps if s["p99_ms"] <= KNEE_P99_MS and not s["lost"] and not s["rejected"]]
        return max(good, default=0.0)


class Layout:
    name = "layout"
    url = ""
    webhook_url = ""
    watched: Watched

    @property
    def ready_urls(self) -> list[str]:
        """Every process that serves /readyz (each says whether its consumer groups joined)."""
        return [self.url]

    async def start(self) -> None: ...

    def stop(self) -> None: ...


class MakeRun(Layout):
    """``python -m switchboard_devstack run`` exactly as `make run` starts it, on a port and data dir of its own."""

    name = "make run"

    def __init__(self, work: Path) -> None:
        self.port = free_port()
        self.url = self.webhook_url = f"http://127.0.0.1:{self.port}"
        self.work = work
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS")}
        env.update(LIMITS)
        log = open(self.work / "make-run.log", "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "switchboard_devstack", "run", "--port", str(self.port), "--data-dir",
             str(self.work / "data")],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        log.close()
        await wait_ready(self.url, timeout=300)
        self.watched = Watched(classify(self.proc.pid, "front"))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Processes(Layout):
    name = "processes"

    def __init__(self, work: Path) -> None:
        self.work = work
        self.stack = LocalStack(work / "servers", durable=False, database="switchboard_bench")
        self.processes: dict[str, ServiceProcess] = {}

    @property
    def ready_urls(self) -> list[str]:
        return [p.url for p in self.processes.values()]

    async def start(self) -> None:
        urls = await asyncio.to_thread(self.stack.start)
        from switchboard_common.migrations import upgrade

        await asyncio.to_thread(upgrade, urls.database_url)
        namespace = f"k{uuid.uuid4().hex[:8]}"
        env = {
            "ENVIRONMENT": "test",
            "DATABASE_URL": urls.database_url,
            "REDIS_URL": urls.redis_url,
            "KAFKA_BOOTSTRAP_SERVERS": urls.kafka_bootstrap_servers,
            "KAFKA_NAMESPACE": namespace,
            "REDIS_NAMESPACE": namespace,
            "LOG_LEVEL": "WARNING",
            "DATA_DIR": str(self.work / "data"),
            **LIMITS,
        }
        self.processes = {name: ServiceProcess(name, env, self.work) for name in SERVICES}
        for process in self.processes.values():
            process.start()
        for process in self.processes.values():
            await asyncio.to_thread(process.wait_ready)
        self.url = self.processes["gateway"].url
        self.webhook_url = self.processes["connectors"].url
        roots = {name: p.pid for name, p in self.processes.items() if p.pid is not None}
        for server, label in (
            (self.stack.postgres, "PostgreSQL"),
            (self.stack.redis, "Valkey"),
            (self.stack.kafka, "tansu"),
        ):
            if server is not None and server.proc is not None:
                roots[label] = server.proc.pid
        self.watched = Watched(roots)

    def stop(self) -> None:
        for process in self.processes.values():
            with contextlib.suppress(Exception):
                if process.running:
                    process.terminate(30)
            process.kill9()
        self.stack.stop()


async def tenant(url: str, visitors: int) -> dict[str, Any]:
    """An account with a web inbox, an API inbox, one agent with room for every visitor, and the visitors."""
    async with aiohttp.ClientSession() as session:
        api = Api(session, url)
        owner, widget_token = await api.tenant()
        agent = await api.agent(owner, capacity=visitors * 4 + 10)
        api_inbox = await api.post("/api/v1/inboxes", {"name": "API", "channel": "api", "settings": {}}, owner)
        tokens = []
        for _ in range(visitors):
            tokens.append((await api.post("/api/v1/widget/sessions", {"widget_token": widget_token}))["visitor_token"])
    return {"agent_token": agent, "visitor_tokens": tokens, "api_inbox": api_inbox, "owner": owner}


async def first_message_ms(url: str) -> float:
    """Right after /readyz: a new visitor's first message to the online agent's socket."""
    async with aiohttp.ClientSession() as session:
        api = Api(session, url)
        owner, widget_token = await api.tenant()
        agent = await api.agent(owner, capacity=10)
        visitor = (await api.post("/api/v1/widget/sessions", {"widget_token": widget_token}))["visitor_token"]
        ws = await session.ws_connect(url.replace("http://", "ws://") + f"/api/v1/ws?token={agent}")
        try:
            while json.loads((await ws.receive()).data).get("type") != "session.ready":
                pass
            await asyncio.sleep(0.5)  # the agent's presence reaches the router
            text = f"first {uuid.uuid4().hex}"
            started = time.perf_counter()
            await api.post("/api/v1/widget/messages", {"text": text}, visitor)
            deadline = started + 30
            while time.perf_counter() < deadline:
                message = await ws.receive(timeout=deadline - time.perf_counter())
                frame = json.loads(message.data)
                texts = [m.get("text") for m in frame.get("messages") or []]
                texts.append((frame.get("message") or {}).get("text"))
                if text in texts:
                    return (time.perf_counter() - started) * 1000
        finally:
            await ws.close()
    return math.nan


async def run_client(
    layout: Layout, plan: dict[str, Any], work: Path, on_begin: Any, on_end: Any
) -> dict[str, dict[str, Any]]:
    plan_path, result_path = work / f"plan-{uuid.uuid4().hex[:6]}.json", work / f"result-{uuid.uuid4().hex[:6]}.json"
    plan_path.write_text(json.dumps(plan))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.fixedrate", str(plan_path), str(result_path),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    layout.watched.roots[CLIENT] = proc.pid
    assert proc.stdout is not None
    step = 0
    while line := await proc.stdout.readline():
        if line.strip() == b"BEGIN":
            on_begin(step)
        elif line.strip() == b"END":
            on_end(step)
            step += 1
    code = await proc.wait()
    layout.watched.roots.pop(CLIENT, None)
    if code != 0:
        raise RuntimeError(f"fixed-rate client failed with {code}")
    result: dict[str, dict[str, Any]] = json.loads(result_path.read_text())
    return result


async def sweep(layout: Layout, config: SweepConfig, work: Path, result: LayoutResult) -> None:
    setup = await tenant(layout.url, VISITORS)
    rates = list(config.rates)
    samples: dict[int, dict[str, float]] = {}
    cpu_by_step: dict[int, dict[str, float]] = {}
    profiler: list[Profiler] = []
    reference_step = rates.index(config.reference_rate) if config.reference_rate in rates else 0

    def begin(step: int) -> None:
        samples[step] = layout.watched.cpu()
        if step == reference_step and config.profile:
            prefix = config.profile_prefix + ("make-run" if isinstance(layout, MakeRun) else "processes")
            pids = python_services(layout.watched.roots, skip=lambda n: n == CLIENT)
            profiler.append(Profiler(prefix, pids, config.step_seconds - 1))

    def end(step: int) -> None:
        now = layout.watched.cpu()
        cpu_by_step[step] = {k: now[k] - samples[step].get(k, 0.0) for k in now}

    plan = {
        "run": uuid.uuid4().hex[:8],
        "url": layout.url,
        "agent_token": setup["agent_token"],
        "visitor_tokens": setup["visitor_tokens"],
        "rates": rates,
        "duration": config.step_seconds,
        "settle": config.settle,
        "warmup_seconds": config.warmup_seconds,
        "ready_urls": layout.ready_urls,
    }
    steps = await run_client(layout, plan, work, begin, end)
    result.warmup = steps.get("warmup", {})
    if result.warmup:
        w = result.warmup
        log(
            f"{layout.name}: warm-up: every process ready after {w['ready_seconds']:.1f} s, "
            f"probe {w['probe_ms']:.0f} ms, {w['rate']:g}/s for {w['seconds']:.0f} s p50 {w['p50_ms']:.0f} ms "
            f"p99 {w['p99_ms']:.0f} ms, lost {w['lost']}"
        )
    for p in profiler:
        await asyncio.to_thread(p.wait)
    for index, rate in enumerate(rates):
        step = steps[str(rate)]
        step["cpu_seconds"] = cpu_by_step.get(index, {})
        result.steps.append(step)
    ref = result.steps[reference_step]
    result.reference_rate = ref["rate"]
    result.cpu_ms_per_message = {k: v * 1000 / max(ref["sent"], 1) for k, v in ref["cpu_seconds"].items()}
    if isinstance(layout, MakeRun) and config.sustain_seconds > 0:
        plan.update(
            run=uuid.uuid4().hex[:8], rates=[config.sustain_rate], duration=config.sustain_seconds, warmup_seconds=0
        )
        try:
            sustained = await run_client(layout, plan, work, lambda _s: None, lambda _s: None)
            result.sustain = sustained[str(config.sustain_rate)]
        except RuntimeError:  # the stack did not recover from the sweep's overload: reported, not fatal
            result.sustain = {"rate": config.sustain_rate, "sent": 0, "lost": 0, "rejected": 0,
                              "p50_ms": math.nan, "p99_ms": math.nan, "failed": True}  # fmt: skip


WIDGET_LUA = """
local tokens = {%s}
local n = 0
request = function()
  n = n + 1
  local body = '{"text":"wrk ' .. n .. '"}'
  return wrk.format("POST", "/api/v1/widget/messages",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. tokens[(n %% #tokens) + 1]}, body)
end
"""

BARE_LUA = """
request = function()
  return wrk.format("POST", "/bare", {["Content-Type"] = "application/json"},
    '{"contact":{"external_id":"c"},"message":{"id":"m","text":"hello"}}')
end
"""

API_LUA = """
local requests = {}
local n = 0
init = function(args)
  for line in io.lines("%s") do
    local ts, sig, body = line:match("^(%%S+) (%%S+) (.*)$")
    local headers = {["Content-Type"] = "application/json"}
    headers["X-Switchboard-Timestamp"] = ts
    headers["X-Switchboard-Signature"] = sig
    requests[#requests + 1] = wrk.format("POST", "%s", headers, body)
  end
end
request = function()
  n = n + 1
  return requests[((n - 1) %% #requests) + 1]
end
"""


def wrk(url: str, script: str, seconds: float, connections: int, work: Path) -> float:
    """Requests per second wrk reports (2 threads, ``connections`` connections); non-2xx are subtracted."""
    return wrk_run(url, script, seconds, connections, work)[0]


def wrk_run(url: str, script: str, seconds: float, connections: int, work: Path) -> tuple[float, int]:
    """wrk's requests per second and the number of 2xx answers (non-2xx are subtracted from both)."""
    path = work / f"wrk-{uuid.uuid4().hex[:6]}.lua"
    path.write_text(script)
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install -y wrk)")
    out = subprocess.run(
        [binary, "-t2", f"-c{connections}", f"-d{int(seconds)}s", "-s", str(path), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    return (rps * (total - errors) / total if total else 0.0), total - errors


async def ack_ratios(layout: Layout, config: SweepConfig, work: Path, profile: str | None = None) -> dict[str, float]:
    """Requests/s acknowledged under wrk: a bare FastAPI endpoint, the widget POST and the API channel, one
    after the other in this run. With ``profile``, py-spy records the process serving each path while wrk
    drives it (tables under ``bench/profiles/ack-{profile}-...``)."""
    from switchboard_common.infra import signing

    setup = await tenant(layout.url, VISITORS)
    tokens = ",".join(f'"{t}"' for t in setup["visitor_tokens"])
    inbox = setup["api_inbox"]
    lines = []
    run = uuid.uuid4().hex[:8]
    for i in range(int(config.wrk_seconds * 4000)):
        body = json.dumps(
            {"contact": {"external_id": f"c{i % 200}"}, "message": {"id": f"{run}-{i}", "text": f"w {i}"}}
        )
        headers = signing.signed_headers(inbox["secret"], body.encode())
        lines.append(f"{headers[signing.TIMESTAMP_HEADER]} {headers[signing.SIGNATURE_HEADER]} {body}")
    requests = work / "api-requests.txt"
    requests.write_text("\n".join(lines) + "\n")
    env = {"ENVIRONMENT": "test", "LOG_LEVEL": "WARNING"}
    seconds, connections = config.wrk_seconds, config.wrk_connections
    bare = await spawn_bare({**os.environ, **env})
    try:
        await asyncio.sleep(1)
        bare_cpu = Watched({"bare": bare.proc.pid})
        before = bare_cpu.cpu()
        bare_rps, bare_ok = await asyncio.to_thread(wrk_run, bare.url, BARE_LUA, seconds, connections, work)
        bare_ms = (bare_cpu.cpu()["bare"] - before["bare"]) * 1000 / max(bare_ok, 1)
    finally:
        bare.stop()
    measured = {"bare": bare_rps, "bare_cpu_ms": bare_ms}
    for path, url, script in (
        ("widget", layout.url, WIDGET_LUA % tokens),
        ("api", layout.webhook_url, API_LUA % (requests, f"/webhooks/api/{inbox['id']}")),
    ):
        profiler = _ack_profiler(layout, profile, path, seconds)
        before = layout.watched.cpu()
        measured[path], ok = await asyncio.to_thread(wrk_run, url, script, seconds, connections, work)
        # CPU per acknowledged request: of the process answering it, and of every process of the stack
        # (services and servers, whose consumers also start on the new records meanwhile).
        spent = {k: v - before.get(k, 0.0) for k, v in layout.watched.cpu().items() if k != CLIENT}
        measured[f"{path}_cpu_ms"] = spent.get(ACK_SERVER[(layout.name, path)], math.nan) * 1000 / max(ok, 1)
        measured[f"{path}_stack_cpu_ms"] = sum(spent.values()) * 1000 / max(ok, 1)
        if profiler is not None:
            await asyncio.to_thread(profiler.wait)
        await asyncio.sleep(3)  # what was accepted drains before the next measurement
    return measured


# The process that answers each acknowledged path: make run's HTTP front serves both; as separate processes,
# the widget POST is the gateway's and the API channel webhook the connectors'.
ACK_SERVER = {("make run", "widget"): "front", ("make run", "api"): "front",
              ("processes", "widget"): "gateway", ("processes", "api"): "connectors"}  # fmt: skip


def _ack_profiler(layout: Layout, profile: str | None, path: str, seconds: float) -> Profiler | None:
    if profile is None:
        return None
    server = ACK_SERVER[(layout.name, path)]
    pid = layout.watched.roots.get(server)
    if pid is None:
        return None
    slug = "make-run" if isinstance(layout, MakeRun) else "processes"
    return Profiler(f"ack-{profile}-{slug}-{path}", {server: pid}, seconds - 1)


ACK_SECTION = "## Webhook acknowledgement under wrk"


async def run_ack(config: SweepConfig, profile: str | None = None) -> list[LayoutResult]:
    """The acknowledgement measurement alone (``python -m bench --only ack``): each layout started, ready,
    then bare / widget / API channel under wrk side by side; no fixed-rate sweep."""
    results = []
    for kind in config.layouts:
        work = Path(tempfile.mkdtemp(prefix="switchboard-knee-"))
        layout = LAYOUTS[kind](work)
        result = LayoutResult(layout.name)
        try:
            await layout.start()
            result.ack = await ack_ratios(layout, config, work, profile)
            rates = ", ".join(f"{k} {v:,.2f}" for k, v in result.ack.items())
            log(f"{layout.name}: acknowledged under wrk: {rates}")
        finally:
            layout.stop()
            shutil.rmtree(work, ignore_errors=True)
        results.append(result)
    return results


def ack_section(results: list[LayoutResult], config: SweepConfig) -> str:
    lines = [
        f"{ACK_SECTION} ({config.wrk_connections} connections)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} (`python -m bench --only ack`): each layout "
        f"started on its own servers; then, one after the other for {config.wrk_seconds:g} s each, wrk (2 threads, "
        f"{config.wrk_connections} connections) against a bare FastAPI endpoint (bench/bare.py, uvicorn, one "
        "worker), the widget POST (`POST /api/v1/widget/messages`, 50 visitors) and the API channel webhook "
        "(`POST /webhooks/api/{inbox_id}`, signed). Only 2xx count; a 2xx means the event is on Kafka (acks=all). "
        "CPU per acknowledged request: of the process that answers (make run: its HTTP front; processes: the "
        "gateway for the widget, the connectors for the API channel) and of the whole stack (every service "
        "process and PostgreSQL, Valkey, tansu; their consumers work on what was accepted meanwhile).",
        "",
        "| layout | bare FastAPI | widget POST | API channel webhook |",
        "| --- | --- | --- | --- |",
    ]
    for r in results:
        if not r.ack:
            lines.append(f"| {r.name} | - | - | - |")
            continue
        a = r.ack
        lines.append(
            f"| {r.name}: acknowledged | {a['bare']:,.0f} req/s | {a['widget']:,.0f} req/s = "
            f"**{a['widget'] / a['bare']:.2f}** of bare | "
            f"{a['api']:,.0f} req/s = **{a['api'] / a['bare']:.2f}** of bare |"
        )
        if "bare_cpu_ms" in a:
            lines.append(
                f"| {r.name}: CPU per request, answering process (stack) | {a['bare_cpu_ms']:.2f} ms | "
                f"{a['widget_cpu_ms']:.2f} ms ({a['widget_stack_cpu_ms']:.2f} ms) | "
                f"{a['api_cpu_ms']:.2f} ms ({a['api_stack_cpu_ms']:.2f} ms) |"
            )
    return "\n".join(lines) + "\n"


LAYOUTS: dict[str, Callable[[Path], Layout]] = {"make-run": MakeRun, "processes": Processes}


async def run_layout(kind: str, config: SweepConfig) -> LayoutResult:
    work = Path(tempfile.mkdtemp(prefix="switchboard-knee-"))
    try:
        return await _run_layout(LAYOUTS[kind](work), config, work)
    finally:
        # The servers' data, the logs and the plans: hundreds of MB per layout after a sweep.
        shutil.rmtree(work, ignore_errors=True)


async def _run_layout(layout: Layout, config: SweepConfig, work: Path) -> LayoutResult:
    result = LayoutResult(layout.name)
    started = time.monotonic()
    try:
        await layout.start()
        result.ready_seconds = time.monotonic() - started
        result.first_message_ms = await first_message_ms(layout.url)
        log(f"{layout.name}: ready in {result.ready_seconds:.1f} s, first message {result.first_message_ms:.0f} ms")
        await sweep(layout, config, work, result)
        for s in result.steps:
            log(
                f"{layout.name} @ {s['rate']:g}/s: p50 {s['p50_ms']:.0f} ms, p99 {s['p99_ms']:.0f} ms, "
                f"lost {s['lost']}, refused {s['rejected']}; "
                f"POST answered p50 {s['ack_p50_ms']:.0f} ms, p99 {s['ack_p99_ms']:.0f} ms"
            )
        if config.wrk_seconds > 0:
            try:  # the sweep's numbers stand even when the acknowledgement measurement cannot run
                result.ack = await ack_ratios(layout, config, work)
            except (RuntimeError, OSError, TimeoutError, aiohttp.ClientError) as exc:
                log(f"{layout.name}: acknowledgement under wrk not measured: {type(exc).__name__}: {exc}")
        result.peak_rss_mb = {k: v for k, v in layout.watched.peak_rss_mb().items() if k != CLIENT}
    finally:
        layout.stop()
    return result


def log(line: str) -> None:
    print(f"knee: {line}", file=sys.stderr, flush=True)


async def run_sweep(config: SweepConfig) -> list[LayoutResult]:
    return [await run_layout(kind, config) for kind in config.layouts]


def plot(results: list[LayoutResult], path: Path = PLOT) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for result, color in zip(results, ("tab:blue", "tab:orange", "tab:green"), strict=False):
        steps = [s for s in result.steps if not math.isnan(s["p99_ms"])]
        rates = [s["rate"] for s in steps]
        ax.plot(rates, [s["p99_ms"] for s in steps], "o-", color=color, label=f"{result.name} p99")
        ax.plot(rates, [s["p50_ms"] for s in steps], "s--", color=color, alpha=0.6, label=f"{result.name} p50")
        for s in steps:
            if s["lost"] or s["rejected"]:
                ax.annotate("lost", (s["rate"], s["p99_ms"]), fontsize=7, color=color)
    ax.axhline(KNEE_P99_MS, color="gray", linestyle=":", label="knee limit (p99 100 ms)")
    ax.set_yscale("log")
    ax.set_xlabel("visitor messages per second (fixed rate, open loop)")
    ax.set_ylabel("POST -> agent socket (ms)")
    ax.set_title("Latency against rate, 2 cores")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def section(results: list[LayoutResult], config: SweepConfig) -> str:
    lines = [
        f"{SECTION}: latency against rate, knee, cost per message",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. A separate client process (aiohttp) posts "
        f"widget messages from {VISITORS} visitors at a fixed rate for {config.step_seconds:g} s per rate, open "
        "loop (a send goes out when due, whatever earlier ones are doing); one agent with room for every "
        "conversation holds a socket. Latency runs from the POST to the frame on the agent's socket; a message "
        f"not on the socket {config.settle:g} s after sending stopped is lost. Before the first rate the stack "
        "warms up, unmeasured: every process answers /readyz 200 (each consumer group joined), a probe message "
        f"makes the round trip, and the first rate runs {config.warmup_seconds:g} s until all of it arrived. "
        "The **knee** is the highest rate "
        f"with p99 <= {KNEE_P99_MS:g} ms and nothing lost or refused. Layouts: **make run** is "
        "`python -m switchboard_devstack run` as `make run` starts it (its own servers); **processes** is each "
        "service its own OS process (`python -m switchboard_<service>`) as Kubernetes runs them.",
        "",
        f"![latency against rate]({PLOT.name})",
        "",
        "| rate (msg/s) | " + " | ".join(f"{r.name}: p50 / p99 / lost (POST answered p99)" for r in results) + " |",
        "| --- | " + " | ".join("---" for _ in results) + " |",
    ]
    for index, rate in enumerate(config.rates):
        cells = []
        for r in results:
            s = r.steps[index] if index < len(r.steps) else None
            cells.append(
                "-"
                if s is None
                else f"{_ms(s['p50_ms'])} / {_ms(s['p99_ms'])} / {s['lost'] + s['rejected']:,}"
                + (f" (POST p99 {_ms(s['ack_p99_ms'])})" if "ack_p99_ms" in s else "")
            )
        lines.append(f"| {rate:g} | " + " | ".join(cells) + " |")
    lines += ["", "| measure | " + " | ".join(r.name for r in results) + " |", "| --- |" + " --- |" * len(results)]
    lines.append("| knee (p99 <= 100 ms, nothing lost) | " + " | ".join(f"{r.knee:g} msg/s" for r in results) + " |")
    for r in results:
        if r.sustain:
            s = r.sustain
            lines.append(
                f"| {r.name}: {s['rate']:g} msg/s for {config.sustain_seconds:g} s | p50 {_ms(s['p50_ms'])}, "
                f"p99 {_ms(s['p99_ms'])}, {s['lost']:,} lost, {s['rejected']:,} refused of {s['sent']:,} |"
                + " |"
                * (len(results) - 1)
            )
    lines.append("| ready (start to /readyz 200) | " + " | ".join(f"{r.ready_seconds:.1f} s" for r in results) + " |")
    lines.append(
        "| first message after /readyz, POST to agent socket | "
        + " | ".join(_ms(r.first_message_ms) for r in results)
        + " |"
    )
    if all(r.ack for r in results):
        for key, label in (("widget", "widget POST"), ("api", "API channel webhook")):
            lines.append(
                f"| {label} acknowledged under wrk ({config.wrk_connections} connections) vs bare FastAPI | "
                + " | ".join(
                    f"{r.ack[key]:,.0f} req/s vs {r.ack['bare']:,.0f} = **{r.ack[key] / r.ack['bare']:.2f}**"
                    for r in results
                )
                + " |"
            )
    names = sorted({n for r in results for n in r.cpu_ms_per_message}, key=_process_order)
    lines += [
        "",
        "CPU milliseconds per message at "
        + ", ".join(f"{r.reference_rate:g} msg/s ({r.name})" for r in results)
        + " (CPU time of each process while sending, divided by the messages sent; the services' sum is the "
        "budget of 2 ms):",
        "",
        "| process | " + " | ".join(r.name for r in results) + " |",
        "| --- |" + " --- |" * len(results),
    ]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(_cpu(r.cpu_ms_per_message.get(name)) for r in results) + " |")
    lines.append(
        "| **services together** | "
        + " | ".join(f"**{sum(v for k, v in r.cpu_ms_per_message.items() if _is_service(k)):.2f}**" for r in results)
        + " |"
    )
    lines += [
        "",
        "| peak memory (VmHWM) | " + " | ".join(r.name for r in results) + " |",
        "| --- |" + " --- |" * len(results),
    ]
    for name in sorted({n for r in results for n in r.peak_rss_mb if _is_service(n)}, key=_process_order):
        lines.append(
            f"| {name} | "
            + " | ".join(f"{r.peak_rss_mb[name]:.0f} MiB" if name in r.peak_rss_mb else "-" for r in results)
            + " |"
        )
    lines += [
        "",
        "Flame graphs of each service process at the reference rate: `bench/profiles/` (py-spy, SVG).",
        "",
    ]
    return "\n".join(lines)


def _is_service(name: str) -> bool:
    return name not in ("PostgreSQL", "Valkey", "tansu", CLIENT)


def _process_order(name: str) -> tuple[int, str]:
    return (0 if _is_service(name) else 1, name)


def _cpu(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
