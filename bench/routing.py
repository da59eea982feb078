"""The routing benchmarks (`make bench`): router replicas as their own processes on this run's servers, load
and clocks in this process.

* decisions per second of one replica for one account of 20, 200, 2,000 and 7,500 online agents: conversations
  created (as ingest announces them) until every one is assigned, with the replica's CPU seconds;
* drain: 2,000 conversations waiting, then 200 agents with capacity 10 come online: time until all are placed;
* both of these side by side with the router as it was before the single writer (an advisory lock and five
  queries per decision), taken from git (the parent of the commit that removed it) and run from its own tree
  in the same run, each measurement on fresh processes and topics; the before side gets a time budget and
  reports what it placed within it;
* placement latency: a queue waits, then one agent comes online (or a resolve frees a slot): time until the next
  conversation is committed to them (``conversations.updated_at``, stamped by the writer's commit);
* scale-out: 30 accounts with one replica, then three: decisions per second, and per CPU second per replica.

Every row is measured on its own, with a time limit: a step that fails or runs out of time prints a ``failed``
or ``partial`` row with what it measured, and the next step goes on (``make bench`` never loses its other rows
to one slow step). Rows print as they are measured. ``--profile DIR`` records each router process with py-spy
(folded stacks ``DIR/routing-<step>.folded`` and a top-function table ``DIR/routing-<step>.txt``).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select
from switchboard_common.domain.conversations import commands
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.encryption.shredding import event_codec
from switchboard_common.infra import tokens
from switchboard_common.infra.runtime import Resources
from switchboard_devstack.processes import ServiceProcess, tree_cpu_seconds
from switchboard_devstack.servers import StackUrls
from switchboard_router.bench import Seed, bring_online, create_conversations, publish_created, seed_account
from switchboard_router.settings import RouterSettings

from bench.costs import start_recording, stop_recording, top_functions
from bench.harness import percentile, service_env

AGENT_COUNTS = (20, 200, 2_000, 7_500)
# The bench's parts, each a row or rows of its own (``--only``).
PHASES = ("memory", "decisions", "drain", "public", "scale")
# Where the advisory-lock router lived: the parent of the commit that removed this file is the "before".
BEFORE_MARKER = "services/router/src/switchboard_router/assignment.py"
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Throughput:
    decisions: int
    seconds: float
    cpu_seconds: float
    # How many were asked for: fewer decisions means the step ran out of time (a partial row).
    wanted: int = 0

    @property
    def complete(self) -> bool:
        return self.decisions >= self.wanted

    @property
    def per_second(self) -> float:
        return self.decisions / self.seconds

    @property
    def per_cpu_second(self) -> float:
        return self.decisions / self.cpu_seconds if self.cpu_seconds else float("nan")


@dataclass
class Drained:
    seconds: float
    placed: int
    queued: int

    @property
    def complete(self) -> bool:
        return self.placed >= self.queued


def before_tree() -> tuple[str, Path] | None:
    """The router, the gateway and switchboard_common as they were before the single writer, extracted from git into a
    temporary directory (``BENCH_ROUTER_BEFORE`` names another commit); None when there is no git history."""

    def git(*args: str) -> bytes:
        return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True).stdout

    try:
        ref = (
            os.environ.get("BENCH_ROUTER_BEFORE") or git("rev-list", "-1", "HEAD", "--", BEFORE_MARKER).decode().strip()
        )
        if not ref:
            return None
        if "BENCH_ROUTER_BEFORE" not in os.environ:
            ref = f"{ref}^"
        commit = git("rev-parse", "--short", ref).decode().strip()
        # The gateway too: the public drain runs the before tree's gateway beside its router.
        archive = git("archive", commit, "services/router/src", "services/gateway/src", "libs/common/src")
    except (OSError, subprocess.CalledProcessError):
        return None
    target = Path(tempfile.mkdtemp(prefix="switchboard-bench-router-before-"))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    # The default names the advisory-lock router; BENCH_ROUTER_BEFORE may name any earlier single writer.
    if "BENCH_ROUTER_BEFORE" not in os.environ and not (target / BEFORE_MARKER).exists():
        return None
    return commit, target


def _profile(process: ServiceProcess, target: Path) -> subprocess.Popen[bytes] | None:
    """py-spy recording the process until interrupted (then it writes its samples as folded stacks, which
    flame-graph tools draw and :func:`top_functions` tabulates); None without py-spy."""
    return start_recording(process.pid, target)


def _stop_profile(spy: subprocess.Popen[bytes], target: Path) -> None:
    stop_recording(spy)
    if target.exists():
        target.with_suffix(".txt").write_text(top_functions(target.read_text()))


@contextlib.asynccontextmanager
async def routers(
    urls: StackUrls,
    count: int,
    tree: Path | None = None,
    *,
    profile: Path | None = None,
    ready_seconds: float = 120.0,
    gateway: bool = False,
) -> AsyncIterator[tuple[Resources, list[ServiceProcess]]]:
    """``count`` router processes on a fresh namespace (run from ``tree``'s sources when given: the before
    side), and this process's resources on the same one; with ``gateway``, a gateway process last (the public
    API). With ``profile`` (a path without suffix), each router is recorded by py-spy into
    ``<profile>[-<i>].folded`` (and ``.txt``)."""
    sources = ("services/router/src", "services/gateway/src", "libs/common/src")
    extra = {"PYTHONPATH": os.pathsep.join(str(tree / s) for s in sources)} if tree else {}
    env = service_env(
        urls, KAFKA_TOPIC_PARTITIONS="6", LOG_LEVEL=os.environ.get("BENCH_ROUTER_LOG_LEVEL", "WARNING"), **extra
    )
    log_dir = Path(tempfile.mkdtemp(prefix="switchboard-bench-router-"))
    processes = [ServiceProcess("router", env, log_dir, name=f"router-{i}") for i in range(count)]
    if gateway:
        processes.append(ServiceProcess("gateway", env, log_dir))
    res = await Resources.open(
        RouterSettings(
            environment="test",
            database_url=urls.database_url,
            redis_url=urls.redis_url,
            kafka_bootstrap_servers=urls.kafka_bootstrap_servers,
            kafka_namespace=env["KAFKA_NAMESPACE"],
            redis_namespace=env["REDIS_NAMESPACE"],
            kafka_topic_partitions=6,
            # The bench brings hundreds of agents online at once from this process: on a loaded machine their
            # Redis connects outlast the services' 2 s (a timed-out connect failed the whole step).
            pool_timeout_seconds=15.0,
        ),
        event_codec,
    )
    spies: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        for process in processes:
            process.start()
        for process in processes:
            await asyncio.to_thread(process.wait_ready, ready_seconds)
        await asyncio.sleep(3)  # the group settles: every replica owns its partitions
        if profile is not None:
            for i, process in enumerate(processes):
                name = f"{profile.name}-{i}" if count > 1 else profile.name
                if i >= count:  # the gateway, for the public drain
                    name = f"{profile.name}-gateway"
                target = profile.with_name(f"{name}.folded")
                spy = _profile(process, target)
                if spy is not None:
                    spies.append((spy, target))
        yield res, processes
    finally:
        for spy, target in spies:
            await asyncio.to_thread(_stop_profile, spy, target)
        for process in processes:
            if process.running:
                with contextlib.suppress(Exception):
                    process.terminate()
        await res.close()


def cpu(processes: Sequence[ServiceProcess]) -> float:
    return sum(tree_cpu_seconds(p.pid) for p in processes if p.pid is not None)


async def assigned(res: Resources, account_ids: Sequence[uuid.UUID]) -> int:
    async with res.sessionmaker() as session:
        return int(
            await session.scalar(
                select(func.count()).where(
                    Conversation.account_id.in_(list(account_ids)), Conversation.assignee_id.is_not(None)
                )
            )
            or 0
        )


async def waiting(res: Resources, account_id: uuid.UUID) -> int:
    async with res.sessionmaker() as session:
        return int(
            await session.scalar(
                select(func.count()).where(Conversation.account_id == account_id, Conversation.queued_at.is_not(None))
            )
            or 0
        )


async def until(check: object, timeout: float = 300.0, interval: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not await check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the routers did not finish in time")
        await asyncio.sleep(interval)


async def route_all(
    res: Resources,
    processes: Sequence[ServiceProcess],
    seeds: Sequence[Seed],
    per_seed: int,
    budget: float | None = None,
) -> Throughput:
    """Creates ``per_seed`` conversations per account, announces them, and times until all are assigned (or,
    with a ``budget`` in seconds, counts what was assigned within it)."""
    batches = [await create_conversations(res, seed, per_seed) for seed in seeds]
    accounts = [seed.account_id for seed in seeds]
    already = await assigned(res, accounts)
    before = cpu(processes)
    started = time.perf_counter()
    await asyncio.gather(*(publish_created(res, seed, ids) for seed, ids in zip(seeds, batches, strict=True)))

    async def done() -> bool:
        return await assigned(res, accounts) >= already + per_seed * len(seeds)

    try:
        await until(done, timeout=budget or 300.0)
    except TimeoutError:
        if budget is None:
            raise
    seconds, cpu_seconds = time.perf_counter() - started, cpu(processes) - before
    return Throughput(await assigned(res, accounts) - already, seconds, cpu_seconds, per_seed * len(seeds))


async def decisions_at(
    res: Resources, processes: Sequence[ServiceProcess], agents: int, decisions: int, budget: float | None = None
) -> Throughput:
    """One account of ``agents`` online agents: decisions per second for ``decisions`` new conversations."""
    seed = await seed_account(res, capacities=[decisions + 200] * agents)
    await bring_online(res, seed, seed.agent_ids)
    # Warm up: the account is loaded, its lists built.
    await route_all(res, processes, [seed], min(200, decisions), budget=budget)
    return await route_all(res, processes, [seed], decisions, budget=budget)


async def queued_account(res: Resources, queued: int, agents: int, budget: float | None) -> Seed:
    """An account of ``agents`` agents of capacity 10, all offline, and ``queued`` conversations waiting for them
    (a slow router still queues them while agents come: the wait is bounded)."""
    seed = await seed_account(res, capacities=[10] * agents)
    ids = await create_conversations(res, seed, queued)
    await publish_created(res, seed, ids)

    async def all_waiting() -> bool:
        return await waiting(res, seed.account_id) == queued

    with contextlib.suppress(TimeoutError):
        await until(all_waiting, timeout=budget or 300.0)
    return seed


async def wait_placed(res: Resources, seed: Seed, queued: int, budget: float | None) -> None:
    """Until all ``queued`` conversations of the account are assigned; with a ``budget``, at most that long (the
    caller counts what was placed), without one a timeout is an error."""

    async def all_placed() -> bool:
        return await assigned(res, [seed.account_id]) == queued

    try:
        await until(all_placed, timeout=budget or 300.0)
    except TimeoutError:
        if budget is None:
            raise


async def drain(
    res: Resources,
    processes: Sequence[ServiceProcess],
    queued: int = 2_000,
    agents: int = 200,
    budget: float | None = None,
) -> Drained:
    """``queued`` conversations wait; then ``agents`` agents of capacity 10 come online: seconds until all are
    placed (with a ``budget``: how many were placed within it)."""
    seed = await queued_account(res, queued, agents, budget)
    started = time.perf_counter()
    await bring_online(res, seed, seed.agent_ids)

    await wait_placed(res, seed, queued, budget)
    return Drained(time.perf_counter() - started, await assigned(res, [seed.account_id]), queued)


def socket_session(seconds: float) -> aiohttp.ClientSession:
    """A client session holding any number of sockets open at once. aiohttp's default connector holds 100
    connections: with 200 agents the 101st handshake waited for one of the first 100 sockets to close, and they
    stay open until every conversation is placed, so the drain of 2,000 for 200 agents never finished."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=seconds))


async def public_drain(
    res: Resources,
    processes: Sequence[ServiceProcess],
    queued: int,
    agents: int,
    budget: float | None = None,
) -> tuple[Drained, float, int, float]:
    """The acceptance path: ``queued`` conversations wait while nobody is online, then ``agents`` agents of
    capacity 10 open their agent sockets on the gateway (the public API, all at once, as a contact center opening
    in the morning): seconds until all are placed, the router's CPU seconds meanwhile, and how many handshakes the
    gateway shed (503, tried again), and seconds until every socket was up (the gateway's share of the time).
    The last process is the gateway; the sockets stay open until every conversation is placed."""
    routers_only, gateway = processes[:-1], processes[-1]
    seed = await queued_account(res, queued, agents, budget)
    secret = res.settings.secret_key
    agent_tokens = [
        tokens.issue(secret, kind="agent", subject=a, account_id=seed.account_id, ttl_seconds=3600, role="agent")
        for a in seed.agent_ids
    ]
    before_cpu = cpu(routers_only)
    shed: list[int] = []
    started = time.perf_counter()
    async with socket_session(budget or 300.0) as http:

        async def connect(token: str) -> aiohttp.ClientWebSocketResponse:
            # A gateway out of database connections sheds handshakes with a 503 (by design): the console tries
            # again after a moment, and so does this.
            for attempt in itertools.count():
                try:
                    socket = await http.ws_connect(f"{gateway.ws_url}/api/v1/ws?token={token}", heartbeat=None)
                    break
                except aiohttp.WSServerHandshakeError as exc:
                    if exc.status != 503 or attempt >= 50:
                        raise
                    shed.append(1)
                    await asyncio.sleep(random.uniform(0.05, 0.25))  # jitter
            async for message in socket:  # the socket is up once the gateway says so (presence announced)
                if message.type == aiohttp.WSMsgType.TEXT and '"session.ready"' in message.data:
                    return socket
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
            raise ConnectionError("the agent socket closed before session.ready")

        sockets = await asyncio.gather(*(connect(t) for t in agent_tokens))
        connected = time.perf_counter() - started
        try:
            await wait_placed(res, seed, queued, budget)
            seconds = time.perf_counter() - started
            router_cpu = cpu(routers_only) - before_cpu
        finally:
            await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
    return Drained(seconds, await assigned(res, [seed.account_id]), queued), router_cpu, len(shed), connected


def memory_decision_cost(agents: int, decisions: int) -> float:
    """CPU seconds per routing decision made in memory by the account's state (candidate index, lifecycle
    transition, state and batch), including its event and row serialized as the commit writes them: the
    decision alone, without the database, Kafka or the rest of the process. One account of ``agents`` online
    agents, ``decisions`` conversations drained."""
    from datetime import UTC, datetime

    from switchboard_common.domain.conversations import lifecycle as lc
    from switchboard_common.domain.conversations import routing as routing_settings
    from switchboard_common.domain.events import serialize_event
    from switchboard_router.account import AccountRouting, Settings
    from switchboard_router.candidates import Agent
    from switchboard_router.store import _json

    account_id, inbox_id = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    settings = Settings(
        routing=routing_settings.account_routing(None),
        default_max=5,
        inboxes={inbox_id: routing_settings.inbox_routing(None)},
        inbox_teams={inbox_id: None},
        team_strategies={},
    )
    pool = [Agent(id=uuid.uuid4(), max_conversations=decisions + 10, online=True) for _ in range(agents)]
    waiting = [
        lc.Conversation(
            id=uuid.uuid4(),
            account_id=account_id,
            inbox_id=inbox_id,
            contact_id=uuid.uuid4(),
            channel="web",
            status="open",
            created_at=now,
        )
        for _ in range(decisions)
    ]
    account = AccountRouting(
        account_id,
        epoch=1,
        settings=settings,
        agents={a.id: a for a in pool},
        conversations={c.id: c for c in waiting},
        timers={},
        exclusions={},
        recent_assignments=[],
    )
    started = time.process_time()
    account.drain(now, decisions)
    batch = account.batch
    serialized = [serialize_event(e) for e in batch.events] + [
        _json(dict(c.explanation)).encode() for c in batch.rows.values()
    ]
    spent = time.process_time() - started
    if batch.decisions != decisions or not serialized:
        raise RuntimeError(f"placed {batch.decisions} of {decisions}")
    return spent / decisions


def _memory_cost_in(tree: Path | None, agents: int, decisions: int) -> float:
    """:func:`memory_decision_cost` in a fresh interpreter (the before tree's sources first on its path)."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(tree / "services/router/src"), str(tree / "libs/common/src"), str(ROOT)]
        )
    done = subprocess.run(
        [sys.executable, "-m", "bench.routing", "--memory-child", str(agents), str(decisions)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return float(done.stdout.strip().splitlines()[-1])


async def placement_latency(res: Resources, samples: int = 100) -> tuple[list[float], list[float]]:
    """Milliseconds from an agent coming online, and from a resolve freeing a slot, to the next conversation
    committed to that agent (the queue is long enough for both)."""
    seed = await seed_account(res, capacities=[1] * samples)
    ids = await create_conversations(res, seed, samples * 2)
    await publish_created(res, seed, ids)

    async def all_waiting() -> bool:
        return await waiting(res, seed.account_id) == samples * 2

    await until(all_waiting)
    online_at: dict[uuid.UUID, float] = {}
    for agent_id in seed.agent_ids:
        online_at[agent_id] = time.time()
        await bring_online(res, seed, [agent_id])
        await asyncio.sleep(0.03)

    async def first_round() -> bool:
        return await assigned(res, [seed.account_id]) == samples

    await until(first_round)
    first = await _placements(res, seed.account_id)
    online = [(first[agent][1] - online_at[agent]) * 1000 for agent in seed.agent_ids]
    resolved_at: dict[uuid.UUID, float] = {}
    for agent_id in seed.agent_ids:
        conversation_id = first[agent_id][0]
        resolved_at[agent_id] = time.time()
        await commands.send(res, seed.account_id, "resolve", conversation_id=conversation_id, actor_id=agent_id)
        await asyncio.sleep(0.03)

    async def second_round() -> bool:
        return await assigned(res, [seed.account_id]) == samples * 2

    await until(second_round)
    second = await _placements(res, seed.account_id, exclude={c for c, _ in first.values()})
    resolve = [(second[agent][1] - resolved_at[agent]) * 1000 for agent in seed.agent_ids]
    return online, resolve


async def _placements(
    res: Resources, account_id: uuid.UUID, exclude: set[uuid.UUID] | None = None
) -> dict[uuid.UUID, tuple[uuid.UUID, float]]:
    async with res.sessionmaker() as session:
        rows = (
            await session.execute(
                select(Conversation.assignee_id, Conversation.id, Conversation.updated_at).where(
                    Conversation.account_id == account_id, Conversation.assignee_id.is_not(None)
                )
            )
        ).all()
    return {agent: (cid, at.timestamp()) for agent, cid, at in rows if cid not in (exclude or set())}


async def scale_out(
    urls: StackUrls,
    replicas: int,
    accounts: int = 30,
    per_account: int = 300,
    *,
    budget: float = 240.0,
    profile: Path | None = None,
) -> Throughput:
    """``accounts`` accounts of 20 agents on ``replicas`` replicas: decisions per second and per CPU second. The
    warm-up (every account loaded by its writer) gets the same budget; a slow one does not abort the row."""
    async with routers(urls, replicas, profile=profile) as (res, processes):
        seeds = [await seed_account(res, capacities=[per_account + 20] * 20) for _ in range(accounts)]
        for seed in seeds:
            await bring_online(res, seed, seed.agent_ids)
        await route_all(res, processes, seeds, 20, budget=budget)
        return await route_all(res, processes, seeds, per_account, budget=budget)


Row = tuple[str, str, str, str]


@dataclass
class Config:
    """What ``make bench`` measures (the defaults) or a smaller smoke run (``python -m bench.routing --help``)."""

    decisions: int = 6_000
    agent_counts: Sequence[int] = AGENT_COUNTS
    before_decisions: int = 300
    before_seconds: float = 30.0
    with_before: bool = True
    drain_queued: int = 2_000
    drain_agents: int = 200
    latency_samples: int = 100
    scale_accounts: int = 30
    scale_per_account: int = 300
    # Most seconds any one step (a row, or one side of it) may take before it reports what it measured.
    step_seconds: float = 150.0
    profile_dir: Path | None = None
    phases: Sequence[str] = PHASES

    def profile(self, name: str) -> Path | None:
        return self.profile_dir / f"routing-{name}" if self.profile_dir is not None else None


def _failed(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "failed: timed out"
    return f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}".rstrip(": ")


async def _step(config: Config, work: Callable[[], Awaitable[Any]]) -> tuple[Any, BaseException | None]:
    """One step with the step's time limit: its result, or the exception that ended it."""
    try:
        # The step's own budgets (a warm-up and a measurement), then starting and stopping its processes.
        async with asyncio.timeout(config.step_seconds * 2 + 120):
            return await work(), None
    except Exception as exc:  # a row reports it: the other rows go on
        return None, exc


def _decisions(measured: Throughput) -> str:
    if measured.complete:
        return f"{measured.per_second:,.0f} decisions/s ({measured.per_cpu_second:,.0f} per router CPU second"
    return (
        f"partial: {measured.decisions:,} of {measured.wanted:,} in {measured.seconds:.0f} s, "
        f"{measured.per_second:,.0f} decisions/s ({measured.per_cpu_second:,.0f} per router CPU second"
    )


def _rate(drained: Drained) -> float:
    return drained.placed / drained.seconds if drained.seconds else float("nan")


def _drained(drained: Drained) -> str:
    if drained.complete:
        return f"all placed in {drained.seconds:.2f} s"
    return f"partial: {drained.placed:,} of {drained.queued:,} placed in {drained.seconds:.0f} s"


async def measure(
    urls: StackUrls, config: Config | None = None, emit: Callable[[Row], None] | None = None
) -> list[Row]:
    """Each size, and the drain, before and after side by side (fresh processes and topics for each), then the
    placement latency and the scale-out of the single writer; each row handed to ``emit`` as it is measured."""
    config = config or Config()
    found: list[Row] = []

    def add(row: Row) -> None:
        found.append(row)
        if emit is not None:
            emit(row)

    before = before_tree() if config.with_before else None
    before_label = f"before ({before[0]}): " if before is not None else ""
    smallest: tuple[int, Throughput] | None = None
    budget = config.step_seconds
    for agents in config.agent_counts if "decisions" in config.phases else ():
        old: Throughput | None = None
        old_error: BaseException | None = None
        if before is not None:

            async def measure_before(agents: int = agents) -> Throughput:
                async with routers(urls, 1, before[1]) as (res, processes):
                    return await decisions_at(
                        res, processes, agents, config.before_decisions, budget=config.before_seconds
                    )

            old, old_error = await _step(config, measure_before)

        async def measure_after(agents: int = agents) -> Throughput:
            async with routers(urls, 1, profile=config.profile(f"decisions-{agents}")) as (res, processes):
                return await decisions_at(res, processes, agents, config.decisions, budget=budget)

        measured, error = await _step(config, measure_after)
        if measured is not None and measured.complete and smallest is None:
            smallest = (agents, measured)
        scenario = f"routing decisions, one router replica, one account of {agents:,} online agents " + (
            f"({config.decisions:,} conversations" + (f"; before: {config.before_decisions:,})" if before else ")")
        )
        if measured is None:
            ours = _failed(error) if error else "failed"
        else:
            relative = (
                f"; x{measured.per_second / smallest[1].per_second:.2f} of {smallest[0]:,} agents)"
                if smallest is not None and measured.complete
                else ")"
            )
            ours = _decisions(measured) + relative
        if old is not None:
            baseline = (
                f"{before_label}{'' if old.complete else 'partial: '}{old.per_second:,.1f} decisions/s "
                f"({old.per_cpu_second:,.0f} per router CPU second)"
            )
        elif old_error is not None:
            baseline = f"{before_label}{_failed(old_error)}"
        else:
            baseline = "-"
        ratio = f"x{measured.per_second / old.per_second:,.0f}" if measured and old and old.per_second else "-"
        add((scenario, ours, baseline, ratio))

    if "memory" in config.phases:
        await _memory_rows(config, before, before_label, add)
    if "drain" in config.phases:
        await _drain_rows(urls, config, before, before_label, add)
    if "public" in config.phases:
        await _public_row(urls, config, before, before_label, add)
    if "scale" in config.phases:
        await _scale_rows(urls, config, add)
    return found


async def _memory_rows(
    config: Config, before: tuple[str, Path] | None, before_label: str, add: Callable[[Row], None]
) -> None:
    """The decision alone, in memory, at every size (side by side with the before tree when it has the writer's
    in-memory state; the advisory-lock router has none)."""
    decisions = min(config.decisions, 3_000)
    smallest: float | None = None
    for agents in config.agent_counts:
        try:
            ours = await asyncio.to_thread(_memory_cost_in, None, agents, decisions)
        except Exception as exc:  # the row says so; the others go on
            add((f"one decision in memory, {agents:,} online agents", _failed(exc), "-", "-"))
            continue
        smallest = smallest or ours
        old: float | None = None
        baseline = "-"
        if before is not None:
            try:
                old = await asyncio.to_thread(_memory_cost_in, before[1], agents, decisions)
                baseline = f"{before_label}{old * 1e6:,.0f} us ({1 / old:,.0f} per CPU second)"
            except Exception as exc:  # an older tree may lack the in-memory writer
                baseline = f"{before_label}{_failed(exc)}"
        add(
            (
                f"one routing decision in memory (choose, lifecycle, state, event and row serialized), one account "
                f"of {agents:,} online agents ({decisions:,} conversations)",
                f"{ours * 1e6:,.0f} us of CPU ({1 / ours:,.0f} per CPU second; x{smallest / ours:.2f} of "
                f"{config.agent_counts[0]:,} agents)",
                baseline,
                f"x{old / ours:.2f}" if old else "-",
            )
        )


async def _public_row(
    urls: StackUrls,
    config: Config,
    before: tuple[str, Path] | None,
    before_label: str,
    add: Callable[[Row], None],
) -> None:
    """The drain through the public API: agents' sockets on a gateway process (non-fatal, time-limited), side
    by side with the before tree's router and gateway when there is one."""

    def shown(measured: tuple[Drained, float, int, float] | None, error: BaseException | None) -> str:
        if measured is None:
            return _failed(error) if error else "failed"
        drained, router_cpu, shed, connected = measured
        per_cpu = f"{drained.placed / router_cpu:,.0f} placements per router CPU second; " if router_cpu else ""
        return (
            f"{_drained(drained)} ({per_cpu}every socket up after {connected:.2f} s; {shed:,} handshakes shed "
            "with 503 and retried)"
        )

    def public(tree: Path | None, name: str | None) -> Callable[[], Awaitable[tuple[Drained, float, int, float]]]:
        async def measure_public() -> tuple[Drained, float, int, float]:
            profile = config.profile(name) if name else None
            async with routers(urls, 1, tree, profile=profile, gateway=True) as (res, processes):
                return await public_drain(
                    res, processes, config.drain_queued, config.drain_agents, budget=config.step_seconds
                )

        return measure_public

    old: tuple[Drained, float, int, float] | None = None
    old_error: BaseException | None = None
    if before is not None:
        old, old_error = await _step(config, public(before[1], "public-before"))
    measured, error = await _step(config, public(None, "public"))
    add(
        (
            f"queue drain through the public API: {config.drain_queued:,} waiting, then {config.drain_agents:,} "
            "agents of capacity 10 open their agent sockets on the gateway at once (goal 2 s)",
            shown(measured, error),
            f"{before_label}{shown(old, old_error)}" if before is not None else "-",
            f"x{_rate(measured[0]) / _rate(old[0]):,.1f} placements per second"
            if measured is not None and old is not None and old[0].placed
            else "-",
        )
    )


async def _drain_rows(
    urls: StackUrls,
    config: Config,
    before: tuple[str, Path] | None,
    before_label: str,
    add: Callable[[Row], None],
) -> None:
    budget = config.step_seconds
    drain_label = (
        f"queue drain: {config.drain_queued:,} waiting, then {config.drain_agents:,} agents of capacity 10 come "
        "online (goal 2 s)"
    )
    before_drain: Drained | None = None
    before_drain_error: BaseException | None = None
    if before is not None:

        async def drain_before() -> Drained:
            async with routers(urls, 1, before[1]) as (res, processes):
                return await drain(
                    res, processes, config.drain_queued, config.drain_agents, budget=config.before_seconds * 2
                )

        before_drain, before_drain_error = await _step(config, drain_before)
    latency: tuple[list[float], list[float]] | None = None
    latency_error: BaseException | None = None

    async def drain_after() -> Drained:
        nonlocal latency, latency_error
        async with routers(urls, 1, profile=config.profile("drain")) as (res, processes):
            drained = await drain(res, processes, config.drain_queued, config.drain_agents, budget=budget)
            try:
                async with asyncio.timeout(budget):
                    latency = await placement_latency(res, config.latency_samples)
            except Exception as exc:  # its own row says so
                latency_error = exc
            return drained

    drained, drain_error = await _step(config, drain_after)
    if before_drain is not None:
        baseline = f"{before_label}{_drained(before_drain)}"
    elif before_drain_error is not None:
        baseline = f"{before_label}{_failed(before_drain_error)}"
    else:
        baseline = "-"
    add(
        (
            drain_label,
            _drained(drained) if drained is not None else _failed(drain_error) if drain_error else "failed",
            baseline,
            f"x{_rate(drained) / _rate(before_drain):,.0f} placements per second"
            if drained is not None and before_drain is not None and before_drain.placed
            else "-",
        )
    )
    for i, label in enumerate(("an agent comes online", "a resolve frees a slot")):
        if latency is not None:
            values = latency[i]
            ours = f"p50 {percentile(values, 50):.1f} ms, p99 {percentile(values, 99):.1f} ms"
        else:
            values = []
            error = latency_error or drain_error
            ours = _failed(error) if error else "failed (the drain before it did not finish)"
        add(
            (
                f"next queued conversation placed after {label} ({len(values) or config.latency_samples} samples)",
                ours,
                "goal p99 50 ms",
                "-",
            )
        )


async def _scale_rows(urls: StackUrls, config: Config, add: Callable[[Row], None]) -> None:
    budget = config.step_seconds
    single, single_error = await _step(
        config,
        lambda: scale_out(
            urls,
            1,
            config.scale_accounts,
            config.scale_per_account,
            budget=budget,
            profile=config.profile("scale-1"),
        ),
    )
    triple, triple_error = await _step(
        config,
        lambda: scale_out(
            urls,
            3,
            config.scale_accounts,
            config.scale_per_account,
            budget=budget,
            profile=config.profile("scale-3"),
        ),
    )

    def scaled(measured: Throughput | None, error: BaseException | None, per: str) -> str:
        if measured is None:
            return _failed(error) if error else "failed"
        prefix = "" if measured.complete else f"partial: {measured.decisions:,} of {measured.wanted:,}; "
        return f"{prefix}{measured.per_second:,.0f} decisions/s; {measured.per_cpu_second:,.0f} per CPU second{per}"

    add(
        (
            f"scale-out: {config.scale_accounts} accounts, 3 router replicas vs 1 (2 cores shared with the servers)",
            scaled(triple, triple_error, " per replica"),
            scaled(single, single_error, ""),
            f"x{triple.per_second / single.per_second:.2f} throughput, "
            f"x{triple.per_cpu_second / single.per_cpu_second:.2f} work per CPU second per replica"
            if triple is not None and single is not None and single.per_second and single.per_cpu_second
            else "-",
        )
    )


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.routing``: the routing rows alone, on servers of their own. A smoke run:
    ``--agents 20 200 --decisions 500 --no-before --drain-queued 200 --drain-agents 20 --latency-samples 10
    --scale-accounts 3 --scale-per-account 20 --step-seconds 60``."""
    import argparse

    from bench.harness import local_stack

    defaults = Config()
    parser = argparse.ArgumentParser(prog="python -m bench.routing")
    parser.add_argument("--decisions", type=int, default=defaults.decisions, help="conversations per account size")
    parser.add_argument("--agents", type=int, nargs="+", default=list(defaults.agent_counts), help="account sizes")
    parser.add_argument("--before-decisions", type=int, default=defaults.before_decisions)
    parser.add_argument("--before-seconds", type=float, default=defaults.before_seconds)
    parser.add_argument("--no-before", action="store_true", help="skip the router before the single writer")
    parser.add_argument("--drain-queued", type=int, default=defaults.drain_queued)
    parser.add_argument("--drain-agents", type=int, default=defaults.drain_agents)
    parser.add_argument("--latency-samples", type=int, default=defaults.latency_samples)
    parser.add_argument("--scale-accounts", type=int, default=defaults.scale_accounts)
    parser.add_argument("--scale-per-account", type=int, default=defaults.scale_per_account)
    parser.add_argument("--step-seconds", type=float, default=defaults.step_seconds, help="time limit per step")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy profiles of the routers into DIR")
    parser.add_argument("--only", default=",".join(PHASES), help=f"parts to run, comma separated ({', '.join(PHASES)})")
    parser.add_argument("--memory-child", type=int, nargs=2, metavar=("AGENTS", "DECISIONS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        print(memory_decision_cost(*args.memory_child), flush=True)
        return
    config = Config(
        decisions=args.decisions,
        agent_counts=args.agents,
        before_decisions=args.before_decisions,
        before_seconds=args.before_seconds,
        with_before=not args.no_before,
        drain_queued=args.drain_queued,
        drain_agents=args.drain_agents,
        latency_samples=args.latency_samples,
        scale_accounts=args.scale_accounts,
        scale_per_account=args.scale_per_account,
        step_seconds=args.step_seconds,
        profile_dir=args.profile,
        phases=[phase for phase in args.only.split(",") if phase],
    )
    unknown = set(config.phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    started = time.monotonic()
    with local_stack() as urls:
        asyncio.run(measure(urls, config, emit=lambda row: print(" | ".join(row), flush=True)))
    print(f"({time.monotonic() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
