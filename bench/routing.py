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
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import subprocess
import tarfile
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from switchboard_common.domain.conversations import commands
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.encryption.shredding import event_codec
from switchboard_common.infra.runtime import Resources
from switchboard_devstack.processes import ServiceProcess, tree_cpu_seconds
from switchboard_devstack.servers import StackUrls
from switchboard_router.bench import Seed, bring_online, create_conversations, publish_created, seed_account
from switchboard_router.settings import RouterSettings

from bench.harness import percentile, service_env

AGENT_COUNTS = (20, 200, 2_000, 7_500)
# Where the advisory-lock router lived: the parent of the commit that removed this file is the "before".
BEFORE_MARKER = "services/router/src/switchboard_router/assignment.py"
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Throughput:
    decisions: int
    seconds: float
    cpu_seconds: float

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


@dataclass
class RoutingResults:
    by_agents: dict[int, Throughput]
    drain: Drained
    before_by_agents: dict[int, Throughput]
    before_drain: Drained | None
    before_ref: str | None
    online_latency_ms: list[float]
    resolve_latency_ms: list[float]
    single: Throughput
    triple: Throughput


def before_tree() -> tuple[str, Path] | None:
    """The router and switchboard_common as they were before the single writer, extracted from git into a
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
        archive = git("archive", commit, "services/router/src", "libs/common/src")
    except (OSError, subprocess.CalledProcessError):
        return None
    target = Path(tempfile.mkdtemp(prefix="switchboard-bench-router-before-"))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    if not (target / BEFORE_MARKER).exists():
        return None
    return commit, target


@contextlib.asynccontextmanager
async def routers(
    urls: StackUrls, count: int, tree: Path | None = None
) -> AsyncIterator[tuple[Resources, list[ServiceProcess]]]:
    """``count`` router processes on a fresh namespace (run from ``tree``'s sources when given: the before
    side), and this process's resources on the same one."""
    extra = {"PYTHONPATH": f"{tree / 'services/router/src'}{os.pathsep}{tree / 'libs/common/src'}"} if tree else {}
    env = service_env(
        urls, KAFKA_TOPIC_PARTITIONS="6", LOG_LEVEL=os.environ.get("BENCH_ROUTER_LOG_LEVEL", "WARNING"), **extra
    )
    log_dir = Path(tempfile.mkdtemp(prefix="switchboard-bench-router-"))
    processes = [ServiceProcess("router", env, log_dir, name=f"router-{i}") for i in range(count)]
    res = await Resources.open(
        RouterSettings(
            environment="test",
            database_url=urls.database_url,
            redis_url=urls.redis_url,
            kafka_bootstrap_servers=urls.kafka_bootstrap_servers,
            kafka_namespace=env["KAFKA_NAMESPACE"],
            redis_namespace=env["REDIS_NAMESPACE"],
            kafka_topic_partitions=6,
        ),
        event_codec,
    )
    try:
        for process in processes:
            process.start()
        for process in processes:
            await asyncio.to_thread(process.wait_ready)
        await asyncio.sleep(3)  # the group settles: every replica owns its partitions
        yield res, processes
    finally:
        for process in processes:
            if process.running:
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
    return Throughput(await assigned(res, accounts) - already, seconds, cpu_seconds)


async def decisions_at(
    res: Resources, processes: Sequence[ServiceProcess], agents: int, decisions: int, budget: float | None = None
) -> Throughput:
    """One account of ``agents`` online agents: decisions per second for ``decisions`` new conversations."""
    seed = await seed_account(res, capacities=[decisions + 200] * agents)
    await bring_online(res, seed, seed.agent_ids)
    # Warm up: the account is loaded, its lists built.
    await route_all(res, processes, [seed], min(200, decisions), budget=budget)
    return await route_all(res, processes, [seed], decisions, budget=budget)


async def drain(
    res: Resources,
    processes: Sequence[ServiceProcess],
    queued: int = 2_000,
    agents: int = 200,
    budget: float | None = None,
) -> Drained:
    """``queued`` conversations wait; then ``agents`` agents of capacity 10 come online: seconds until all are
    placed (with a ``budget``: how many were placed within it)."""
    seed = await seed_account(res, capacities=[10] * agents)
    ids = await create_conversations(res, seed, queued)
    await publish_created(res, seed, ids)

    async def all_waiting() -> bool:
        return await waiting(res, seed.account_id) == queued

    with contextlib.suppress(TimeoutError):
        await until(all_waiting, timeout=budget or 300.0)  # a slow router still queues them while agents come
    started = time.perf_counter()
    await bring_online(res, seed, seed.agent_ids)

    async def all_placed() -> bool:
        return await assigned(res, [seed.account_id]) == queued

    try:
        await until(all_placed, timeout=budget or 300.0)
    except TimeoutError:
        if budget is None:
            raise
    return Drained(time.perf_counter() - started, await assigned(res, [seed.account_id]), queued)


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


async def scale_out(urls: StackUrls, replicas: int, accounts: int = 30, per_account: int = 300) -> Throughput:
    async with routers(urls, replicas) as (res, processes):
        seeds = [await seed_account(res, capacities=[per_account] * 20) for _ in range(accounts)]
        for seed in seeds:
            await bring_online(res, seed, seed.agent_ids)
        await route_all(res, processes, seeds, 20)  # every account loaded by its writer
        return await route_all(res, processes, seeds, per_account)


async def measure(
    urls: StackUrls,
    decisions: int = 6_000,
    *,
    agent_counts: Sequence[int] = AGENT_COUNTS,
    before_decisions: int = 300,
    before_seconds: float = 30.0,
    with_before: bool = True,
    latency_samples: int = 100,
    scale_per_account: int = 300,
) -> RoutingResults:
    """Each size, and the drain, before and after side by side (fresh processes and topics for each), then the
    placement latency and the scale-out of the single writer."""
    before = before_tree() if with_before else None
    by_agents: dict[int, Throughput] = {}
    before_by_agents: dict[int, Throughput] = {}
    for agents in agent_counts:
        if before is not None:
            async with routers(urls, 1, before[1]) as (res, processes):
                before_by_agents[agents] = await decisions_at(
                    res, processes, agents, before_decisions, budget=before_seconds
                )
        async with routers(urls, 1) as (res, processes):
            by_agents[agents] = await decisions_at(res, processes, agents, decisions)
    before_drain = None
    if before is not None:
        async with routers(urls, 1, before[1]) as (res, processes):
            before_drain = await drain(res, processes, budget=before_seconds * 2)
    async with routers(urls, 1) as (res, processes):
        drained = await drain(res, processes)
        online, resolve = await placement_latency(res, latency_samples)
    return RoutingResults(
        by_agents=by_agents,
        drain=drained,
        before_by_agents=before_by_agents,
        before_drain=before_drain,
        before_ref=before[0] if before is not None else None,
        online_latency_ms=online,
        resolve_latency_ms=resolve,
        single=await scale_out(urls, 1, per_account=scale_per_account),
        triple=await scale_out(urls, 3, per_account=scale_per_account),
    )


def _rate(drained: Drained) -> float:
    return drained.placed / drained.seconds if drained.seconds else float("nan")


def _drained(drained: Drained) -> str:
    if drained.complete:
        return f"all placed in {drained.seconds:.2f} s"
    return f"{drained.placed:,} of {drained.queued:,} placed in {drained.seconds:.0f} s"


def rows(result: RoutingResults) -> list[tuple[str, str, str, str]]:
    """(scenario, ours, before, ratio) rows for the results table."""
    smallest = result.by_agents[min(result.by_agents)]
    before_label = f"before ({result.before_ref}): " if result.before_ref else ""
    found = []
    for agents, measured in result.by_agents.items():
        old = result.before_by_agents.get(agents)
        found.append(
            (
                f"routing decisions, one router replica, one account of {agents:,} online agents "
                f"({measured.decisions:,} conversations" + (f"; before: {old.decisions:,})" if old else ")"),
                f"{measured.per_second:,.0f} decisions/s ({measured.per_cpu_second:,.0f} per router CPU second; "
                f"x{measured.per_second / smallest.per_second:.2f} of {min(result.by_agents):,} agents)",
                f"{before_label}{old.per_second:,.1f} decisions/s" if old else "-",
                f"x{measured.per_second / old.per_second:,.0f}" if old and old.per_second else "-",
            )
        )
    before_drain = result.before_drain
    found.append(
        (
            "queue drain: 2,000 waiting, then 200 agents of capacity 10 come online (goal 2 s)",
            _drained(result.drain),
            f"{before_label}{_drained(before_drain)}" if before_drain else "-",
            f"x{_rate(result.drain) / _rate(before_drain):,.0f} placements per second"
            if before_drain and before_drain.placed
            else "-",
        )
    )
    for label, values in (
        ("an agent comes online", result.online_latency_ms),
        ("a resolve frees a slot", result.resolve_latency_ms),
    ):
        found.append(
            (
                f"next queued conversation placed after {label} ({len(values)} samples)",
                f"p50 {percentile(values, 50):.1f} ms, p99 {percentile(values, 99):.1f} ms",
                "goal p99 50 ms",
                "-",
            )
        )
    single, triple = result.single, result.triple
    found.append(
        (
            "scale-out: 30 accounts, 3 router replicas vs 1 (2 cores shared with the servers)",
            f"{triple.per_second:,.0f} decisions/s; {triple.per_cpu_second:,.0f} per CPU second per replica",
            f"{single.per_second:,.0f} decisions/s; {single.per_cpu_second:,.0f} per CPU second",
            f"x{triple.per_second / single.per_second:.2f} throughput, "
            f"x{triple.per_cpu_second / single.per_cpu_second:.2f} work per CPU second per replica",
        )
    )
    return found


def main() -> None:
    """``python -m bench.routing``: the routing rows alone, on servers of their own (small sizes for a smoke
    run: ``--agents 20 200 --decisions 500 --before-decisions 50 --before-seconds 10 --latency-samples 10
    --scale-per-account 20``)."""
    import argparse

    from bench.harness import local_stack

    parser = argparse.ArgumentParser(prog="python -m bench.routing")
    parser.add_argument("--decisions", type=int, default=6000)
    parser.add_argument("--agents", type=int, nargs="+", default=list(AGENT_COUNTS))
    parser.add_argument("--before-decisions", type=int, default=300)
    parser.add_argument("--before-seconds", type=float, default=30.0)
    parser.add_argument("--no-before", action="store_true")
    parser.add_argument("--latency-samples", type=int, default=100)
    parser.add_argument("--scale-per-account", type=int, default=300)
    args = parser.parse_args()
    with local_stack() as urls:
        result = asyncio.run(
            measure(
                urls,
                decisions=args.decisions,
                agent_counts=args.agents,
                before_decisions=args.before_decisions,
                before_seconds=args.before_seconds,
                with_before=not args.no_before,
                latency_samples=args.latency_samples,
                scale_per_account=args.scale_per_account,
            )
        )
    for row in rows(result):
        print(" | ".join(row))


if __name__ == "__main__":
    main()
