"""`make bench`: runs every scenario against real local servers and writes bench/results.md."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from switchboard_devstack.servers import StackUrls

from bench import knee, reports, routing, spam_accuracy
from bench.harness import RESULTS, local_stack, save_section, service_env, spawn_bare, spawn_deployment
from bench.load import SECTION as load_section_heading
from bench.load import LoadConfig, report, run_load, section
from bench.scenarios import (
    MESSENGER_BATCH,
    Row,
    agent_socket_with_logins,
    api_channel_throughput,
    bare_latency,
    bare_throughput,
    latency_row,
    login_interference_row,
    messenger_throughput,
    slack_throughput,
    throughput_row,
    visitor_to_agent_latency,
)

SLACK_SECRET = "bench-slack-signing-secret"
MESSENGER_SECRET = "bench-messenger-app-secret"


async def run(
    args: argparse.Namespace, urls: StackUrls, phases: set[str], measured: Callable[[list[Row]], None]
) -> None:
    """The side-by-side scenarios and the domain benchmarks; ``measured`` gets each group of rows as it ends."""
    env = service_env(urls)
    if "scenarios" in phases:
        env = await scenarios(args, urls, measured)
    if "logins" in phases:
        measured(await login_rows(args, urls))
    if "domain" in phases:
        measured(await domain_rows(urls, env, args))
        measured([Row(*spam_accuracy.row_values(spam_accuracy.cross_validate(spam_accuracy.load())), "-", "-")])


async def scenarios(args: argparse.Namespace, urls: StackUrls, measured: Callable[[list[Row]], None]) -> dict[str, str]:
    from tests.fakes.graph import FakeGraph
    from tests.fakes.slack import FakeSlack

    rows: list[Row] = []
    # A bench must never reach Meta or Slack: both are faked at the HTTP boundary (they prove inbox ownership;
    # text-only ingest never calls them).
    fake_slack, fake_graph = FakeSlack(), FakeGraph()
    await fake_slack.start()
    await fake_graph.start()
    env = service_env(
        urls,
        SLACK_SIGNING_SECRET=SLACK_SECRET,
        MESSENGER_APP_SECRET=MESSENGER_SECRET,
        SLACK_API_URL=fake_slack.url,
        GRAPH_API_URL=fake_graph.url,
    )
    bare = await spawn_bare(env)
    system = await spawn_deployment(env)
    try:
        base = await bare_latency(bare, args.rate, args.duration)
        ours = await visitor_to_agent_latency(system, args.rate, args.duration)
        rows.append(latency_row("visitor message -> agent socket (vs bare POST round trip)", ours, base, args.rate))
        n, c = args.requests, args.concurrency
        bare_rps = await bare_throughput(bare, n, c)
        rows.append(
            throughput_row("webhook ingest: API channel", await api_channel_throughput(system, n, c), bare_rps, c)
        )
        rows.append(
            throughput_row(
                "webhook ingest: Slack events",
                await slack_throughput(system, n, c, SLACK_SECRET, fake_slack),
                bare_rps,
                c,
            )
        )
        rows.append(
            throughput_row(
                f"webhook ingest: Messenger (batches of {MESSENGER_BATCH} events)",
                await messenger_throughput(system, n, c, MESSENGER_SECRET, fake_graph),
                bare_rps,
                c,
            )
        )
        peaks = system.peak_rss_mb()  # while the processes live
    finally:
        system.stop()
        bare.stop()
        await fake_slack.stop()
        await fake_graph.stop()
    rows.append(
        Row(
            "peak memory per service process (" + ", ".join(peaks) + ")",
            " / ".join(f"{mb:.0f}" for mb in peaks.values()) + " MiB",
            f"{bare.peak_rss_mb:.0f} MiB (bare)",
            f"x{max(peaks.values()) / bare.peak_rss_mb:.1f} (largest)",
        )
    )
    measured(rows)
    return env


async def login_rows(args: argparse.Namespace, urls: StackUrls) -> list[Row]:
    """The agent socket alone and under a login flood, side by side in one run (issue 15), in a deployment of
    its own (`python -m bench --only logins` runs just this row)."""
    # Every bench client logs in from 127.0.0.1: the per-address login throttle (which counts attempts in
    # flight) must not turn the 20 logins/s into refusals.
    system = await spawn_deployment(service_env(urls, LOGIN_ADDRESS_FAILURES="1000000"))
    try:
        # Bounded: a machine too slow for the login load reports a failed row instead of stalling the bench.
        profile = Path(args.profile_logins) if args.profile_logins else None
        run = await asyncio.wait_for(
            agent_socket_with_logins(system, args.rate, args.duration, profile=profile),
            timeout=4 * args.duration + 240,
        )
        row = login_interference_row(run, args.rate)
        print(" | ".join((row.scenario, row.ours, row.baseline, row.ratio, row.note)), flush=True)
        return [row]
    except (RuntimeError, OSError, TimeoutError) as exc:  # reported, never aborting the other rows
        return [Row("agent-socket p99 with 20 logins/s (vs without)", "failed", "-", "-", type(exc).__name__)]
    finally:
        system.stop()


async def domain_rows(urls: StackUrls, env: dict[str, str], args: argparse.Namespace) -> list[Row]:
    """Benchmarks of routing, reports and privacy, run against this run's servers."""
    from switchboard_privacy import bench as privacy_bench
    from switchboard_privacy.settings import PrivacySettings

    common = {
        "database_url": urls.database_url,
        "redis_url": urls.redis_url,
        "kafka_bootstrap_servers": urls.kafka_bootstrap_servers,
        "environment": "test",
        "kafka_namespace": env["KAFKA_NAMESPACE"],
        "redis_namespace": env["REDIS_NAMESPACE"],
    }
    rows: list[Row] = []
    try:  # a failed benchmark is a row saying so; it never takes the privacy rows with it
        # Each routing row prints as it is measured; a failed or slow step gives a 'failed'/'partial' row.
        routing_rows = await routing.measure(
            urls, routing.Config(decisions=args.decisions), emit=lambda row: print(" | ".join(row), flush=True)
        )
        rows.extend(Row(*values) for values in routing_rows)
    except Exception as exc:
        traceback.print_exc()
        rows.append(Row("routing benchmarks", "failed", "-", "-", type(exc).__name__))
    try:  # the reports rows: seeded through the rollup consumer's code, a gateway process of their own
        measured_reports = await reports.measure(
            urls,
            messages=args.reports_messages,
            requests=args.reports_requests,
            baseline_messages=args.reports_baseline_messages,
        )
        rows.extend(Row(*values) for values in reports.rows(measured_reports))
    except Exception as exc:
        traceback.print_exc()
        rows.append(Row("reports benchmarks", "failed", "-", "-", type(exc).__name__))
    result = await privacy_bench.measure(
        PrivacySettings(**common), args.privacy_total, args.privacy_subject, args.privacy_retention
    )
    rows.append(
        Row(
            f"erasure of a subject with {result['subject_messages']:,} messages among "
            f"{result['messages_in_database']:,}, every store",
            f"{result['erasure_seconds']} s",
            "-",
            "-",
        )
    )
    rows.append(Row("retention sweep", f"{result['retention_rows_per_second']:,} rows/s", "-", "-"))
    rows.append(
        Row(
            "ingest p99 (ack-path database work) without / with a sweep running",
            f"{result['ingest_p99_ms_during_sweep']} ms during sweep",
            f"{result['ingest_p99_ms_idle']} ms without",
            "-",
        )
    )
    return rows


TABLE_SECTION = "## Side by side"


def table_section(rows: list[Row], seconds: float) -> str:
    """The scenario table: Switchboard and a bare FastAPI endpoint in one run, then the domain benchmarks."""
    lines = [
        f"{TABLE_SECTION}: the scenarios against a bare endpoint, routing, privacy",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()}, {os.cpu_count()} "
        f"cores, Python {platform.python_version()}; {seconds:.0f} s. Servers: each service its own process (one "
        "uvicorn worker), as Kubernetes runs them; load from aiohttp in a separate process.",
        "",
        "| scenario | Switchboard | bare FastAPI (same run) | ratio |",
        "| --- | --- | --- | --- |",
        *[f"| {r.scenario} | {r.ours} | {r.baseline} | {r.ratio} |" for r in rows],
        "",
    ]
    return "\n".join(lines)


PHASES = ("sweep", "ack", "scenarios", "logins", "domain", "load")
# `make bench` runs these; "ack" alone repeats the sweep's acknowledgement rows (to profile and compare the ack
# path without a sweep).
DEFAULT_PHASES = ("sweep", "scenarios", "logins", "domain", "load")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--rate", type=float, default=50.0, help="messages per second for latency scenarios")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per latency scenario")
    parser.add_argument("--requests", type=int, default=3000, help="requests per throughput scenario")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight for throughput")
    parser.add_argument(
        "--decisions", type=int, default=6000, help="routing decisions measured per account size (one replica)"
    )
    parser.add_argument("--privacy-total", type=int, default=1_000_000, help="messages in the database")
    parser.add_argument("--privacy-subject", type=int, default=10_000, help="messages of the erased subject")
    parser.add_argument("--step-seconds", type=float, default=20.0, help="seconds per rate of the fixed-rate sweep")
    parser.add_argument(
        "--reports-messages", type=int, default=1_000_000, help="messages whose rollups the reports bench seeds"
    )
    parser.add_argument("--reports-requests", type=int, default=200, help="summary requests per group_by")
    parser.add_argument(
        "--reports-baseline-messages",
        type=int,
        default=200_000,
        help="messages of a second reports account measured side by side in the same run (0: none)",
    )
    parser.add_argument("--privacy-retention", type=int, default=200_000, help="rows the retention sweep removes")
    parser.add_argument(
        "--profile-logins",
        default="",
        help="with the logins phase: py-spy records the gateway during the run with logins into PATH.txt "
        "(PATH without suffix, e.g. bench/profiles/logins-gateway)",
    )
    parser.add_argument(
        "--only", default=",".join(DEFAULT_PHASES), help=f"phases to run, comma separated ({', '.join(PHASES)})"
    )
    args = parser.parse_args(argv)
    phases = set(args.only.split(","))
    if unknown := phases - set(PHASES):
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    started = time.monotonic()
    failed: list[str] = []
    exit_code = 0

    def attempt(name: str, phase: Callable[[], None]) -> None:
        # Each phase writes its part of bench/results.md when it ends; one failing keeps the others' numbers.
        try:
            phase()
        except Exception:
            traceback.print_exc()
            failed.append(name)

    def sweep_phase() -> None:
        # Fixed rate through both layouts (`make run` as users start it, and one process per service): latency
        # against rate and the knee, CPU per message of every process, profiles, ack ratio under wrk, first
        # message after start, peak memory. Each layout brings its own servers.
        config = knee.SweepConfig(step_seconds=args.step_seconds)
        sweep = asyncio.run(knee.run_sweep(config))
        knee.plot(sweep)
        text = knee.section(sweep, config)
        save_section(knee.SECTION, text)
        print(text)

    def ack_phase() -> None:
        # The acknowledgement under wrk alone (the sweep measures it too, after its fixed-rate steps).
        # BENCH_ACK_LAYOUTS: make-run, processes or both; BENCH_ACK_PROFILE=<label>: py-spy tables of the serving
        # process under bench/profiles/ack-<label>-*.
        layouts = tuple(os.environ.get("BENCH_ACK_LAYOUTS", "make-run,processes").split(","))
        config = knee.SweepConfig(layouts=layouts)
        results = asyncio.run(knee.run_ack(config, profile=os.environ.get("BENCH_ACK_PROFILE") or None))
        text = knee.ack_section(results, config)
        save_section(knee.ACK_SECTION, text)
        print(text)

    def table_phase() -> None:
        rows: list[Row] = []

        def measured(new_rows: list[Row]) -> None:
            rows.extend(new_rows)
            # The logins row alone (`--only logins`) is printed, never written over the whole table.
            if phases & {"scenarios", "domain"}:
                save_section(TABLE_SECTION, table_section(rows, time.monotonic() - started))

        with local_stack() as urls:
            asyncio.run(run(args, urls, phases, measured))
        print(table_section(rows, time.monotonic() - started))

    def load_phase() -> None:
        nonlocal exit_code
        with local_stack() as urls:  # servers of its own: the load run starts from empty topics and tables
            load_result = asyncio.run(run_load(urls, LoadConfig.from_env()))
        save_section(load_section_heading, section(load_result))
        print(section(load_result))
        exit_code = report(load_result)

    if "sweep" in phases:
        attempt("sweep", sweep_phase)
    if "ack" in phases:
        attempt("ack", ack_phase)
    if phases & {"scenarios", "logins", "domain"}:
        attempt("scenarios/logins/domain", table_phase)
    if "load" in phases:
        attempt("load", load_phase)
    print(f"written to {RESULTS} in {time.monotonic() - started:.0f} s")
    if failed:
        print(f"bench: phases that failed: {', '.join(failed)} (their sections keep the previous run)", file=sys.stderr)
        return 1
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
