"""`make bench`: runs every scenario against real local servers and writes bench/results.md."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from pathlib import Path

from switchboard_devstack.servers import StackUrls

from bench.harness import local_stack, service_env, spawn_bare, spawn_system
from bench.scenarios import (
    Row,
    bare_latency,
    latency_row,
    visitor_to_agent_latency,
)

SLACK_SECRET = "bench-slack-signing-secret"

RESULTS = Path(__file__).parent / "results.md"


async def run(args: argparse.Namespace, urls: StackUrls) -> list[Row]:
    rows: list[Row] = []
    if True:
        env = service_env(urls, SLACK_SIGNING_SECRET=SLACK_SECRET)
        bare = await spawn_bare(env)
        system = await spawn_system(env)
        try:
            base = await bare_latency(bare, args.rate, args.duration)
            ours = await visitor_to_agent_latency(system, args.rate, args.duration)
            rows.append(latency_row("visitor message -> agent socket (vs bare POST round trip)", ours, base, args.rate))
        finally:
            system.stop()
            bare.stop()
        rows.append(
            Row(
                "peak memory, whole system in one process",
                f"{system.peak_rss_mb:.0f} MiB",
                f"{bare.peak_rss_mb:.0f} MiB (bare)",
                f"x{system.peak_rss_mb / bare.peak_rss_mb:.1f}",
            )
        )
    return rows


def write(rows: list[Row], seconds: float) -> str:
    lines = [
        "| scenario | Switchboard | bare FastAPI (same run) | ratio |",
        "| --- | --- | --- | --- |",
        *[f"| {r.scenario} | {r.ours} | {r.baseline} | {r.ratio} |" for r in rows],
    ]
    table = "\n".join(lines)
    header = (
        f"# Benchmark results\n\nRun {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; {seconds:.0f} s.\n"
        "Servers: one uvicorn worker each, load from aiohttp in a separate process, open loop at a fixed rate.\n\n"
    )
    RESULTS.write_text(header + table + "\n")
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--rate", type=float, default=50.0, help="messages per second for latency scenarios")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per latency scenario")
    parser.add_argument("--requests", type=int, default=3000, help="requests per throughput scenario")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight for throughput")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with local_stack() as urls:
        rows = asyncio.run(run(args, urls))
    print(write(rows, time.monotonic() - started))
    print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
