"""Processes, load generation and statistics for the benchmarks.

The system under test and the baseline run as separate server processes (uvicorn, one worker each) and
the load comes from this process with aiohttp, open-loop at a fixed rate: we measure the servers, not
the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from switchboard_devstack import LocalStack, free_port
from switchboard_devstack.processes import ServiceProcess, high_water_bytes
from switchboard_devstack.servers import StackUrls

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results.md"
RESULTS_TITLE = "# Benchmark results\n"


def replace_section(document: str, heading: str, new_section: str) -> str:
    """``document`` with the section starting at ``heading`` replaced by ``new_section`` (appended if absent)."""
    head, found, rest = document.partition(heading)
    if not found:
        return document.rstrip("\n") + "\n\n" + new_section
    _, next_heading, tail = rest.partition("\n## ")
    return head + new_section + (("\n## " + tail) if next_heading else "")


def save_section(heading: str, new_section: str, results: Path = RESULTS) -> None:
    """Writes one part of bench/results.md as soon as it is measured: a later part failing loses nothing."""
    document = results.read_text() if results.exists() else RESULTS_TITLE
    results.write_text(replace_section(document, heading, new_section))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


@contextlib.contextmanager
def local_stack() -> Iterator[StackUrls]:
    data_dir = Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
    stack = LocalStack(data_dir, durable=False, database="switchboard_bench")
    urls = stack.start()
    from switchboard_common.migrations import upgrade

    upgrade(urls.database_url)
    try:
        yield urls
    finally:
        stack.stop()
        shutil.rmtree(data_dir, ignore_errors=True)  # hundreds of MB after a load run


def service_env(urls: StackUrls, **extra: str) -> dict[str, str]:
    namespace = f"b{uuid.uuid4().hex[:8]}"
    env = dict(os.environ)
    env.update(
        {
            "ENVIRONMENT": "test",
            "DATABASE_URL": urls.database_url,
            "REDIS_URL": urls.redis_url,
            "KAFKA_BOOTSTRAP_SERVERS": urls.kafka_bootstrap_servers,
            "KAFKA_NAMESPACE": namespace,
            "REDIS_NAMESPACE": namespace,
            "KAFKA_TOPIC_PARTITIONS": "6",
            "LOG_LEVEL": "WARNING",
        }
    )
    env.update(extra)
    return env


@dataclass
class ServerProcess:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    peak_rss_mb: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sample_memory(self) -> float:
        """Peak resident memory so far (VmHWM), in MiB."""
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_rss_mb = max(self.peak_rss_mb, int(line.split()[1]) / 1024)
        return self.peak_rss_mb

    def stop(self) -> None:
        self.sample_memory()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


async def wait_ready(url: str, path: str = "/readyz", timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with session.get(url + path) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{url}{path} not ready")


async def spawn(
    name: str, args: list[str], env: dict[str, str], port: int, ready_path: str = "/readyz"
) -> ServerProcess:
    log = open(Path(tempfile.gettempdir()) / f"switchboard-bench-{name}.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, *args], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    server = ServerProcess(name=name, port=port, proc=proc)
    try:
        await wait_ready(server.url, ready_path)
    except BaseException:
        server.stop()
        raise
    return server


async def spawn_bare(env: dict[str, str]) -> ServerProcess:
    port = free_port()
    return await spawn(
        "bare",
        ["-m", "uvicorn", "bench.bare:app", "--port", str(port), "--log-level", "warning"],
        env,
        port,
        ready_path="/healthz",
    )


SERVICES = ("gateway", "connectors", "router", "privacy")


@dataclass
class Deployment:
    """The services as Kubernetes runs them, one process each: the gateway serves agents and the widget,
    connectors take the webhooks, router and privacy work from Kafka."""

    processes: dict[str, ServiceProcess]
    log_dir: Path | None = None

    @property
    def api_url(self) -> str:
        return self.processes["gateway"].url

    @property
    def webhook_url(self) -> str:
        return self.processes["connectors"].url

    def peak_rss_mb(self) -> dict[str, float]:
        """Each service's peak resident memory so far (VmHWM)."""
        return {name: high_water_bytes(p.pid) / 2**20 for name, p in self.processes.items() if p.pid is not None}

    def stop(self) -> None:
        for process in self.processes.values():
            if process.running:
                process.terminate()
        if self.log_dir is not None:
            shutil.rmtree(self.log_dir, ignore_errors=True)  # every bench run would leave one in /tmp


async def spawn_deployment(env: dict[str, str]) -> Deployment:
    log_dir = Path(tempfile.mkdtemp(prefix="switchboard-bench-services-"))
    deployment = Deployment({name: ServiceProcess(name, env, log_dir) for name in SERVICES}, log_dir)
    try:
        for process in deployment.processes.values():
            process.start()
        for process in deployment.processes.values():
            await asyncio.to_thread(process.wait_ready)
    except BaseException:
        deployment.stop()
        raise
    return deployment


@dataclass
class RateResult:
    sent: int = 0
    errors: int = 0
    # Answered at once with a documented retryable refusal (429 too_many_logins): not errors, not served.
    refused: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    duration_s: float = 0.0


async def open_loop(rate: float, duration: float, fire: Callable[[int], Awaitable[None]]) -> float:
    """Calls ``fire(i)`` at a fixed rate (not waiting for answers), returns the real duration."""
    interval = 1.0 / rate
    start = time.perf_counter()
    tasks: list[asyncio.Task[None]] = []
    i = 0
    while (now := time.perf_counter()) - start < duration:
        due = start + i * interval
        if due > now:
            await asyncio.sleep(due - now)
        tasks.append(asyncio.create_task(fire(i)))
        i += 1
    await asyncio.gather(*tasks, return_exceptions=True)
    return time.perf_counter() - start


async def closed_loop(concurrency: int, total: int, fire: Callable[[int], Awaitable[bool]]) -> tuple[float, int]:
    """``concurrency`` workers send ``total`` requests as fast as the server answers; returns (seconds, ok)."""
    counter = iter(range(total))
    ok = 0

    async def worker() -> None:
        nonlocal ok
        for i in counter:
            if await fire(i):
                ok += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start, ok
