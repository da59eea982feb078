"""The load run: N messages (default 100,000) across every channel through the whole pipeline, each service
in its own OS process as Kubernetes runs them, counted exactly once on the agents' sockets and in the
database, with throughput, end-to-end latency and each service's peak memory.

    python -m bench.load [--messages N] [--window W] [--rate R]     (or BENCH_LOAD_MESSAGES=N make bench)

The client side (webhook senders and agent sockets) runs in another process (bench.loadgen); this one
starts the servers and services, sets up the account, samples memory and checks the database afterwards.
Exits 1 when a message was lost, duplicated, refused or left unsent.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from switchboard_devstack.processes import (
    ServiceProcess,
    child_pids,
    high_water_bytes,
    tree_cpu_seconds,
    tree_rss_bytes,
)
from switchboard_devstack.servers import StackUrls

from bench.harness import RESULTS, ROOT, local_stack, save_section, service_env
from bench.loadgen import CHANNELS, marker, parse_marker
from bench.scenarios import PASSWORD, Api

SERVICES = ("gateway", "connectors", "router", "privacy")
SLACK_SECRET = "bench-load-slack-signing-secret"
MESSENGER_SECRET = "bench-load-messenger-app-secret"
SECTION = "## Load run"
CLIENT = "load client (not a service)"


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name, "").replace("_", "")
    return float(value) if value else default


@dataclass
class LoadConfig:
    messages: int = 100_000
    window: int = 200  # messages in the pipeline at once (sent, not yet on an agent's socket)
    rate: float = 0.0  # messages per second to pace at; 0: as fast as the window allows
    agents: int = 20
    conversations: int = 0  # 0: one per 50 messages, between 40 and 2,000
    max_seconds: float = 2700.0  # no new message after this long; the rest is reported unsent
    slot_timeout: float = 120.0  # a message not on a socket after this long frees its slot (and counts lost)
    settle_idle: float = 60.0  # after sending, stop waiting once nothing new arrived for this long
    # Broker layout for the run: the one `make run` uses, so the run shows how `make run` holds up over a long
    # session. The local broker (tansu, in-memory) lists a partition's whole log on every fetch that finds
    # new records there: more partitions keep each log short, and background consumers fetch a few times a
    # second with larger batches (KAFKA_BACKGROUND_POLL_INTERVAL_MS). A real Kafka finds an offset through its
    # index and needs none of this.
    partitions: int = 32  # as `make run` lays its topics out (switchboard_devstack.LOCAL_TOPIC_PARTITIONS)
    fetch_wait_ms: int = 40
    background_fetch_wait_ms: int = 250

    @classmethod
    def from_env(cls) -> LoadConfig:
        return cls(
            messages=int(_env_number("BENCH_LOAD_MESSAGES", 100_000)),
            window=int(_env_number("BENCH_LOAD_WINDOW", 200)),
            rate=_env_number("BENCH_LOAD_RATE", 0.0),
            max_seconds=_env_number("BENCH_LOAD_MAX_SECONDS", 2700.0),
            partitions=int(_env_number("BENCH_LOAD_PARTITIONS", 32)),
            fetch_wait_ms=int(_env_number("BENCH_LOAD_FETCH_WAIT_MS", 40)),
        )

    @property
    def per_channel(self) -> int:
        total = self.conversations or min(2000, max(40, self.messages // 50))
        return max(1, min(total, self.messages) // len(CHANNELS))


@dataclass
class Usage:
    name: str
    peak_rss_mb: float = 0.0
    cpu_seconds: float = 0.0
    exited: int | None = None
    service: bool = True


@dataclass
class LoadResult:
    config: LoadConfig
    client: dict[str, Any]
    stored_once: int
    stored_missing: int
    stored_duplicated: int
    services: list[Usage]
    setup_seconds: float
    diagnosis: list[dict[str, Any]] = field(default_factory=list)
    started_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))

    @property
    def problems(self) -> list[str]:
        c = self.client
        found = [
            f"{c['lost']} lost" if c["lost"] else "",
            f"{c['duplicated']} shown twice or more" if c["duplicated"] else "",
            f"{c['refused']} refused" if c["refused"] else "",
            f"{c['unsent']} unsent (time limit)" if c["unsent"] else "",
            f"{c['malformed']} malformed markers" if c["malformed"] else "",
            f"{self.stored_missing} not stored" if self.stored_missing else "",
            f"{self.stored_duplicated} stored twice" if self.stored_duplicated else "",
            *(f"{s.name} exited with {s.exited}" for s in self.services if s.exited is not None and s.service),
        ]
        return [p for p in found if p]


class UsageSampler:
    """Resident memory (with children) of each watched process every ``interval`` seconds, keeping the peak
    together with the kernel's high-water mark of the process itself (peaks between samples); and the CPU
    time used between the first and the last sample."""

    def __init__(self, pids: dict[str, Callable[[], int | None]], interval: float = 0.25) -> None:
        self.pids = pids
        self.interval = interval
        self.peak: dict[str, int] = collections.defaultdict(int)
        self.cpu_first: dict[str, float] = {}
        self.cpu_last: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        for name, get_pid in self.pids.items():
            pid = get_pid()
            if pid is None:
                continue
            self.peak[name] = max(self.peak[name], tree_rss_bytes(pid), high_water_bytes(pid))
            cpu = tree_cpu_seconds(pid)
            self.cpu_first.setdefault(name, cpu)
            self.cpu_last[name] = max(cpu, self.cpu_last.get(name, 0.0))

    def usage(self, name: str) -> Usage:
        return Usage(
            name,
            peak_rss_mb=self.peak[name] / 2**20,
            cpu_seconds=self.cpu_last.get(name, 0.0) - self.cpu_first.get(name, 0.0),
        )

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self.sample()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def setup(
    processes: dict[str, ServiceProcess], config: LoadConfig, run: str, platforms: tuple[Any, Any]
) -> tuple[dict[str, Any], str]:
    fake_slack, fake_graph = platforms  # the tokens they issue prove the page and workspace (inbox ownership)
    """An account with an inbox per channel, its customers' widget sessions and online agents: the plan
    for bench.loadgen and the account id."""
    gateway = processes["gateway"].url
    per_channel = config.per_channel
    capacity = min(1000, math.ceil(per_channel * len(CHANNELS) / config.agents * 1.5) + 5)
    async with aiohttp.ClientSession() as session:
        api = Api(session, gateway)
        email = f"load-{run}@example.com"
        account = await api.post("/api/v1/signup", {"account_name": "Load", "email": email, "password": PASSWORD})
        owner = (await api.post("/api/v1/auth/login", {"email": email, "password": PASSWORD}))["access_token"]
        web = await api.post("/api/v1/inboxes", {"name": "Site", "channel": "web"}, owner)
        api_inbox = await api.post("/api/v1/inboxes", {"name": "Shop", "channel": "api", "settings": {}}, owner)
        slack = {"team_id": f"TL{run.upper()}", "channel_id": "CLOAD", "signing_secret": SLACK_SECRET}
        await api.post(
            "/api/v1/inboxes",
            {
                "name": "Slack",
                "channel": "slack",
                "settings": {
                    "team_id": slack["team_id"],
                    "channel_id": slack["channel_id"],
                    "bot_token": fake_slack.install("xoxb-load-bench-token", slack["team_id"]),
                    "bot_user_id": "UBOT",
                },
            },
            owner,
        )
        messenger = {"page_id": str(uuid.uuid4().int % 10**15), "app_secret": MESSENGER_SECRET}
        await api.post(
            "/api/v1/inboxes",
            {
                "name": "Messenger",
                "channel": "messenger",
                "settings": {
                    "page_id": messenger["page_id"],
                    "page_access_token": fake_graph.page_token(messenger["page_id"]),
                },
            },
            owner,
        )
        agents = []
        for n in range(config.agents):
            agent_email = f"load-{run}-agent{n}@example.com"
            await api.post(
                "/api/v1/agents",
                {
                    "email": agent_email,
                    "name": f"Agent {n}",
                    "password": PASSWORD,
                    "role": "agent",
                    "max_conversations": capacity,
                },
                owner,
            )
            agents.append(await api.post("/api/v1/auth/login", {"email": agent_email, "password": PASSWORD}))
        visitors: list[str] = []
        for start in range(0, per_channel, 25):
            batch = [
                api.post("/api/v1/widget/sessions", {"widget_token": web["widget_token"]})
                for _ in range(min(25, per_channel - start))
            ]
            visitors.extend(v["visitor_token"] for v in await asyncio.gather(*batch))
    plan = {
        "run": run,
        "gateway_url": gateway,
        "connectors_url": processes["connectors"].url,
        "agents": agents,
        "visitor_tokens": visitors,
        "api_inbox": {"id": api_inbox["id"], "secret": api_inbox["secret"]},
        "slack": slack,
        "messenger": messenger,
        "messages": config.messages,
        "per_channel": per_channel,
        "window": config.window,
        "rate": config.rate,
        "slot_timeout": config.slot_timeout,
        "settle_idle": config.settle_idle,
        "max_seconds": config.max_seconds,
    }
    return plan, str(account["account_id"])


def watch_servers(sampler: UsageSampler, services: set[int | None]) -> None:
    """The local servers this process started (PostgreSQL with its backends, Valkey, tansu), watched too:
    they share the machine with the services, and their share of it explains the services' numbers."""
    for pid in child_pids(os.getpid()):
        if pid in services:
            continue
        with contextlib.suppress(OSError):
            name = Path(f"/proc/{pid}/comm").read_text().strip()
            sampler.pids[f"{name} (server)"] = lambda pid=pid: pid if Path(f"/proc/{pid}").exists() else None


async def count_stored(database_url: str, account_id: str, run: str, accepted: list[int]) -> tuple[int, int, int]:
    """(stored once, accepted but not stored, stored more than once), by marker."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.stream(
                text("SELECT text FROM messages WHERE account_id = :a AND direction = 'inbound'"), {"a": account_id}
            )
            stored: collections.Counter[int] = collections.Counter()
            async for (body,) in rows:
                seq = parse_marker(run, body)
                if seq is not None:
                    stored[seq] += 1
    finally:
        await engine.dispose()
    once = sum(1 for seq in accepted if stored.get(seq) == 1)
    missing = sum(1 for seq in accepted if not stored.get(seq))
    return once, missing, sum(1 for n in stored.values() if n > 1)


async def diagnose(database_url: str, account_id: str, run: str, seqs: list[int]) -> list[dict[str, Any]]:
    """For messages stored but never shown: their conversation's state and routing history, from the database."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url)
    found = []
    try:
        async with engine.connect() as conn:
            for seq in seqs[:10]:
                row = (
                    await conn.execute(
                        text(
                            "SELECT m.id::text AS message, m.created_at, c.id::text AS conversation, c.status,"
                            " c.assignee_id::text AS assignee, c.timeline_assignee_id::text AS timeline_assignee"
                            " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
                            " WHERE m.account_id = :a AND m.text = :t"
                        ),
                        {"a": account_id, "t": marker(run, seq)},
                    )
                ).first()
                if row is None:
                    found.append({"seq": seq, "stored": False})
                    continue
                history = await conn.execute(
                    text(
                        "SELECT action, agent_id::text, created_at FROM routing_history"
                        " WHERE conversation_id = :c ORDER BY id"
                    ),
                    {"c": row.conversation},
                )
                found.append(
                    {
                        "seq": seq,
                        **{k: str(v) for k, v in row._mapping.items()},
                        "routing": [f"{r[2]:%H:%M:%S.%f} {r[0]} {r[1]}" for r in history],
                    }
                )
    finally:
        await engine.dispose()
    return found


async def drive_client(
    plan: dict[str, Any], work_dir: Path, config: LoadConfig, sampler: UsageSampler
) -> dict[str, Any]:
    plan_path, result_path = work_dir / "plan.json", work_dir / "result.json"
    plan_path.write_text(json.dumps(plan))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.loadgen", str(plan_path), str(result_path), cwd=ROOT
    )
    sampler.pids[CLIENT] = lambda: proc.pid if proc.returncode is None else None
    # Bounded: the client stops sending at max_seconds, then waits at most for slots and settling.
    limit = config.max_seconds + config.slot_timeout + config.settle_idle + 180
    try:
        code = await asyncio.wait_for(proc.wait(), limit)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise RuntimeError(f"the load client did not finish in {limit:.0f} s") from None
    if code != 0 or not result_path.exists():
        raise RuntimeError(f"the load client failed with exit code {code}")
    result: dict[str, Any] = json.loads(result_path.read_text())
    return result


async def run_load(urls: StackUrls, config: LoadConfig) -> LoadResult:
    from tests.fakes.graph import FakeGraph
    from tests.fakes.slack import FakeSlack

    started = time.monotonic()
    run = uuid.uuid4().hex[:8]
    work_dir = Path(tempfile.mkdtemp(prefix="switchboard-load-"))
    # Nothing leaves the machine: Slack and Graph are faked at the HTTP boundary (inbound text never calls them).
    fake_slack, fake_graph = FakeSlack(), FakeGraph()
    await fake_slack.start()
    await fake_graph.start()
    env = service_env(
        urls,
        DATA_DIR=str(work_dir / "data"),
        SLACK_SIGNING_SECRET=SLACK_SECRET,
        SLACK_API_URL=fake_slack.url,
        MESSENGER_APP_SECRET=MESSENGER_SECRET,
        GRAPH_API_URL=fake_graph.url,
        KAFKA_TOPIC_PARTITIONS=str(config.partitions),
        KAFKA_FETCH_MAX_WAIT_MS=str(config.fetch_wait_ms),
        KAFKA_BACKGROUND_FETCH_MAX_WAIT_MS=str(config.background_fetch_wait_ms),
        # One network sends every visitor's messages here; the limits still run, they just never bite.
        WIDGET_MESSAGES_PER_MINUTE="1000000",
        WIDGET_SESSIONS_PER_10_MINUTES="1000000",
    )
    processes = {name: ServiceProcess(name, env, work_dir) for name in SERVICES}
    sampler = UsageSampler({name: (lambda p=p: p.pid) for name, p in processes.items()})
    try:
        for process in processes.values():
            process.start()
        for process in processes.values():
            await asyncio.to_thread(process.wait_ready)
        watch_servers(sampler, {p.pid for p in processes.values()})
        plan, account_id = await setup(processes, config, run, (fake_slack, fake_graph))
        setup_seconds = time.monotonic() - started
        sampler.start()
        client = await drive_client(plan, work_dir, config, sampler)
        await sampler.stop()
        usage = [sampler.usage(name) for name in sampler.pids]
        for item in usage:
            if item.name in processes:
                process = processes[item.name]
                item.exited = None if process.running or process.proc is None else process.proc.returncode
            else:
                item.service = False
        stored = await count_stored(urls.database_url, account_id, run, client.pop("accepted_seqs"))
        diagnosis = (
            await diagnose(urls.database_url, account_id, run, client["lost_examples"]) if client["lost"] else []
        )
    except BaseException:
        for process in processes.values():  # what the services said, before their logs go with the directory
            with contextlib.suppress(Exception):
                print(f"load: {process.name} log (tail):\n{process.log_tail()}", file=sys.stderr)
        raise
    finally:
        await sampler.stop()
        for process in processes.values():
            with contextlib.suppress(Exception):
                if process.running:
                    await asyncio.to_thread(process.terminate, 30)
            process.kill9()
        await fake_slack.stop()
        await fake_graph.stop()
        # The services' data and logs, the plan and the client's result: every run would leave one in /tmp.
        shutil.rmtree(work_dir, ignore_errors=True)
    return LoadResult(config, client, *stored, services=usage, setup_seconds=setup_seconds, diagnosis=diagnosis)


def _ms(stats: dict[str, float]) -> str:
    return f"p50 {stats['p50']:,.0f} ms, p99 {stats['p99']:,.0f} ms"


def section(result: LoadResult) -> str:
    """The load run's part of bench/results.md."""
    c, cfg = result.client, result.config
    pacing = f"paced at {cfg.rate:g}/s" if cfg.rate else "as fast as the pipeline delivers"
    verdict = (
        "PASS: every accepted message reached an agent exactly once"
        if not result.problems
        else ("FAIL: " + ", ".join(result.problems))
    )
    lines = [
        f"{SECTION}: {cfg.messages:,} messages through the whole pipeline",
        "",
        f"Run {result.started_at}. Each service (gateway, connectors, router, privacy) is its own OS process "
        "(one uvicorn worker, as a pod runs it) on local PostgreSQL, Valkey and tansu; the client (aiohttp "
        "senders and the agents' WebSockets) is another process. Messages go round the four channels (web "
        f"widget, API channel, Slack, Messenger; signed as each platform signs) and {cfg.per_channel * 4:,} "
        f"conversations; {cfg.agents} agents are online. Closed loop: at most {cfg.window} messages in the "
        f"pipeline (sent, not yet on an agent's socket), {pacing}. Latency runs from the webhook request to "
        "the frame on the agent's socket; each message carries a unique marker, counted on the sockets and "
        "in the database.",
        "",
        f"**{verdict}.**",
        "",
        "| measure | result |",
        "| --- | --- |",
        f"| messages accepted (2xx) / sent | {c['accepted']:,} / {c['sent']:,} ({c['refused']} refused, "
        f"{c['retries']} retries, {c['unsent']:,} unsent) |",
        f"| on an agent's socket exactly once | {c['delivered_once']:,} |",
        f"| lost / duplicated | {c['lost']:,} / {c['duplicated']:,} |",
        f"| stored exactly once / missing / duplicated rows | {result.stored_once:,} / {result.stored_missing:,}"
        f" / {result.stored_duplicated:,} |",
        f"| sustained throughput, webhook to agent socket | {c['throughput']:,.0f} messages/s "
        f"({c['seconds']:,.0f} s) |",
        f"| first / last {c.get('window', 0):,} messages (a long run must not slow down) | "
        f"{c.get('first_window_rate', math.nan):,.0f} / {c.get('last_window_rate', math.nan):,.0f} messages/s "
        f"(last/first {c.get('last_window_rate', math.nan) / c.get('first_window_rate', math.nan):.2f}) |",
        f"| webhook acknowledgement | {_ms(c['ack_ms']['all'])} |",
        f"| end to end, webhook to agent socket | {_ms(c['e2e_ms']['all'])} |",
        *(
            f"| end to end, {channel} | {_ms(c['e2e_ms'][channel])} (ack {_ms(c['ack_ms'][channel])}) |"
            for channel in CHANNELS
            if channel in c["e2e_ms"]
        ),
        "",
        "| process | peak memory (RSS, with children) | CPU during the run |",
        "| --- | --- | --- |",
        *(
            f"| {s.name} | {s.peak_rss_mb:,.0f} MiB | {s.cpu_seconds:,.0f} s"
            f" ({s.cpu_seconds / c['seconds'] if c['seconds'] else 0:.2f} cores) |"
            for s in result.services
        ),
        "",
        "Servers and the client share the machine with the services and are listed for that reason; "
        "PostgreSQL's figure adds up its backends, each counting the shared buffers it touched.",
        "",
    ]
    return "\n".join(lines)


def report(result: LoadResult) -> int:
    """Prints what went wrong, if anything; the exit code for `make bench`."""
    c = result.client
    if result.problems:
        print(f"load: FAIL: {', '.join(result.problems)}", file=sys.stderr)
        for key in (
            "lost_examples",
            "lost_by_channel",
            "lost_context",
            "duplicated_examples",
            "refused_examples",
            "statuses",
            "frames",
        ):
            if c.get(key):
                print(f"load: {key}: {c[key]}", file=sys.stderr)
        for item in result.diagnosis:
            print(f"load: lost message in the database: {item}", file=sys.stderr)
        return 1
    return 0


def parse_args(argv: list[str] | None) -> LoadConfig:
    defaults = LoadConfig.from_env()
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--messages", type=int, default=defaults.messages, help="env BENCH_LOAD_MESSAGES")
    parser.add_argument("--window", type=int, default=defaults.window, help="messages in the pipeline at once")
    parser.add_argument("--rate", type=float, default=defaults.rate, help="messages/s to pace at (0: unpaced)")
    parser.add_argument("--agents", type=int, default=defaults.agents)
    parser.add_argument("--conversations", type=int, default=0, help="0: one per 50 messages, 40 to 2,000")
    parser.add_argument("--max-seconds", type=float, default=defaults.max_seconds, help="stop sending after")
    parser.add_argument("--partitions", type=int, default=defaults.partitions, help="env BENCH_LOAD_PARTITIONS")
    parser.add_argument(
        "--fetch-wait-ms", type=int, default=defaults.fetch_wait_ms, help="env BENCH_LOAD_FETCH_WAIT_MS"
    )
    args = parser.parse_args(argv)
    return LoadConfig(
        messages=args.messages,
        window=args.window,
        rate=args.rate,
        agents=args.agents,
        conversations=args.conversations,
        max_seconds=args.max_seconds,
        partitions=args.partitions,
        fetch_wait_ms=args.fetch_wait_ms,
    )


def sweep_main(argv: list[str]) -> int:
    """``--sweep``: the fixed-rate mode (bench.knee) alone, for both layouts or the ones named."""
    from bench import knee

    parser = argparse.ArgumentParser(prog="python -m bench.load --sweep")
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--layouts", default="make-run,processes", help="make-run, processes or both")
    parser.add_argument("--rates", default="", help="messages/s, comma separated")
    parser.add_argument("--step-seconds", type=float, default=20.0)
    parser.add_argument("--reference-rate", type=float, default=200.0)
    parser.add_argument("--sustain-seconds", type=float, default=60.0)
    parser.add_argument("--wrk-seconds", type=float, default=10.0)
    parser.add_argument("--warmup-seconds", type=float, default=10.0, help="unmeasured, before the first rate")
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args(argv)
    config = knee.SweepConfig(
        layouts=tuple(args.layouts.split(",")),
        step_seconds=args.step_seconds,
        reference_rate=args.reference_rate,
        sustain_seconds=args.sustain_seconds,
        wrk_seconds=args.wrk_seconds,
        warmup_seconds=args.warmup_seconds,
        profile=not args.no_profile,
    )
    if args.rates:
        config.rates = tuple(float(r) for r in args.rates.split(","))
    results = asyncio.run(knee.run_sweep(config))
    knee.plot(results)
    text = knee.section(results, config)
    save_section(knee.SECTION, text)
    (Path(__file__).parent / "profiles" / "sweep.json").write_text(
        json.dumps([r.__dict__ for r in results], default=str, indent=1)
    )
    print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--sweep" in args:
        return sweep_main(args)
    config = parse_args(argv)
    with local_stack() as urls:
        result = asyncio.run(run_load(urls, config))
    save_section(SECTION, section(result))
    print(section(result))
    code = report(result)
    print(f"written to {RESULTS}")
    return code


if __name__ == "__main__":
    sys.exit(main())
