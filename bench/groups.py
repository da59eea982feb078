"""What the consumer groups cost: one fixed rate through both layouts (`make run`, and one process per service),
with each service profiled (py-spy) while it runs. Writes ``bench/profiles/groups-<label>.md``: CPU milliseconds
per message of every process, and the share of each service's busy samples spent fetching records from the broker,
filtering them by header, decoding them and committing offsets (bench.costs.CONSUMER_WORK), beside each profile's
table (``bench/profiles/groups-<label>-<layout>-<service>.txt``).

    python -m bench.groups --label before --rate 100 --seconds 15

Small on purpose: one step per layout, no sustained run, no wrk. The sweep (``python -m bench --only sweep``) is
the full measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import knee
from bench.costs import CONSUMER_WORK, PROFILES, _slug

SERVICES = ("front", "gateway", "router", "connectors", "privacy")


def _shares(profile: Path) -> dict[str, float]:
    """The consumer-work lines of a profile table (bench.costs.top_functions)."""
    shares: dict[str, float] = {}
    if not profile.exists():
        return shares
    for line in profile.read_text().splitlines():
        match = re.match(r"\s*([\d.]+) \| (.+)$", line)
        if match and match.group(2) in CONSUMER_WORK:
            shares[match.group(2)] = float(match.group(1))
    return shares


def report(label: str, results: list[knee.LayoutResult], rate: float, seconds: float) -> str:
    lines = [
        f"# Consumer groups' cost: {label}",
        "",
        f"`python -m bench.groups --label {label} --rate {rate:g} --seconds {seconds:g}`, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, on the shared 2-core machine. One step of "
        f"{seconds:g} s at {rate:g} visitor messages/s per layout.",
        "",
        "| layout | process | CPU ms / accepted message | " + " | ".join(CONSUMER_WORK) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in CONSUMER_WORK) + " |",
    ]
    blank = " | ".join("" for _ in CONSUMER_WORK)
    for result in results:
        slug = "make-run" if result.name == "make run" else "processes"
        step = result.steps[0] if result.steps else {}
        # Per accepted message: a POST refused at overload costs little and is no message (the sweep divides by
        # every POST sent).
        accepted = max(step.get("sent", 0) - step.get("rejected", 0), 1)
        cpu_ms = {k: v * 1000 / accepted for k, v in step.get("cpu_seconds", {}).items()}
        for process, ms in sorted(cpu_ms.items(), key=lambda item: -item[1]):
            profile = PROFILES / f"groups-{label}-{slug}-{_slug(process)}.txt"
            shares = _shares(profile)
            cells = [f"{shares[k]:.1f} %" if k in shares else "-" for k in CONSUMER_WORK]
            lines.append(f"| {result.name} | {process} | {ms:.2f} | " + " | ".join(cells) + " |")
        services = sum(v for k, v in cpu_ms.items() if k.lower().split()[0] in SERVICES)
        lines.append(f"| {result.name} | **services together** | **{services:.2f}** | {blank} |")
        if step:
            lines.append(
                f"| {result.name} | (the step) | {step['sent']} sent, {step['rejected']} refused, "
                f"lost {step['lost']}; p50 {step['p50_ms']:.0f} ms, p99 {step['p99_ms']:.0f} ms | {blank} |"
            )
    lines += [
        "",
        "Consumer-work columns: share of the process's busy py-spy samples with such a frame anywhere on the stack "
        "(bench.costs.CONSUMER_WORK); the rest is HTTP, handlers, database and Redis work.",
    ]
    return "\n".join(lines) + "\n"


async def idle_cpu(kind: str, seconds: float) -> dict[str, float]:
    """Share of one core each process of the layout spends at rest (nothing sent) over ``seconds``, after every
    process is ready: each consumer group's fetch loop polls even when nothing flows."""
    work = Path(tempfile.mkdtemp(prefix="switchboard-knee-"))
    layout = knee.LAYOUTS[kind](work)
    try:
        await layout.start()
        await asyncio.sleep(5)
        before = layout.watched.cpu()
        await asyncio.sleep(seconds)
        after = layout.watched.cpu()
        return {k: 100 * (after[k] - before.get(k, 0.0)) / seconds for k in after}
    finally:
        layout.stop()
        shutil.rmtree(work, ignore_errors=True)


def idle_report(kind: str, shares: dict[str, float], seconds: float) -> str:
    lines = [
        "",
        f"At rest ({kind}, nothing sent, {seconds:g} s after every process was ready): share of one core.",
        "",
        "| process | CPU at rest |",
        "| --- | --- |",
    ]
    lines += [f"| {k} | {v:.1f} % |" for k, v in sorted(shares.items(), key=lambda item: -item[1])]
    services = sum(v for k, v in shares.items() if k.lower().split()[0] in SERVICES)
    lines.append(f"| **services together** | **{services:.1f} %** |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.groups")
    parser.add_argument("--label", required=True, help="names the report and the profiles (before, after)")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--layouts", default="make-run,processes")
    parser.add_argument("--idle-seconds", type=float, default=30.0, help="make run at rest (0: not measured)")
    args = parser.parse_args(argv)
    config = knee.SweepConfig(
        layouts=tuple(args.layouts.split(",")),
        rates=(args.rate,),
        reference_rate=args.rate,
        step_seconds=args.seconds,
        warmup_seconds=5.0,
        sustain_seconds=0.0,
        wrk_seconds=0.0,
        profile_prefix=f"groups-{args.label}-",
    )
    results = [asyncio.run(knee.run_layout(kind, config)) for kind in config.layouts]
    for svg in PROFILES.glob(f"groups-{args.label}-*.svg"):
        svg.unlink()  # the tables are kept; flame graphs are the sweep's
    text = report(args.label, results, args.rate, args.seconds)
    if args.idle_seconds > 0:
        text += idle_report("make run", asyncio.run(idle_cpu("make-run", args.idle_seconds)), args.idle_seconds)
    (PROFILES / f"groups-{args.label}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
