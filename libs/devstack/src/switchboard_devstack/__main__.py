"""`make run`: the local servers, migrations, and every service on one port.

python -m switchboard_devstack run [--port 8000] [--data-dir .switchboard]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from pathlib import Path

from switchboard_common.infra.settings import ConfigurationError

from switchboard_devstack.processes import ServiceProcess
from switchboard_devstack.servers import LocalStack

WORKER_SERVICES = ("gateway", "connectors", "router", "privacy")
LOCAL_TOPIC_PARTITIONS = 32


def _print_table(rows: list[tuple[str, str]]) -> None:
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label.ljust(width)}  {value}", flush=True)


def _stop_with_parent() -> None:
    """SIGTERM to `make` (our parent) reaches us too: we get SIGTERM when it exits, and shut down cleanly."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def run(port: int, data_dir: Path) -> int:
    started = time.monotonic()
    _stop_with_parent()
    data_dir = data_dir.absolute()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        stack = LocalStack(data_dir, durable=True)
    except ConfigurationError as exc:
        raise SystemExit(f"switchboard: configuration error: {exc}") from None
    print(f"switchboard: starting local servers in {data_dir} ...", flush=True)
    urls = stack.start()
    try:
        env = {
            "DATABASE_URL": urls.database_url,
            "REDIS_URL": urls.redis_url,
            "KAFKA_BOOTSTRAP_SERVERS": urls.kafka_bootstrap_servers,
            "DATA_DIR": str(data_dir),
        }
        os.environ.update(env)
        # The local broker's layout (see docs/operations.md, "The local broker"): more partitions keep each
        # partition's log, which tansu lists on every fetch that finds new records, short in a long session.
        os.environ.setdefault("KAFKA_TOPIC_PARTITIONS", str(LOCAL_TOPIC_PARTITIONS))
        from switchboard_common.infra.logging import configure_logging
        from switchboard_common.infra.service import run_until_complete, serve
        from switchboard_common.infra.settings import CommonSettings, load_settings
        from switchboard_common.migrations import upgrade

        settings = load_settings(CommonSettings)
        configure_logging(
            settings.log_level,
            json_output=settings.log_json,
            service="switchboard",
            stream=open(data_dir / "switchboard.log", "a", buffering=1),  # noqa: SIM115 - lives as long as the process
        )
        upgrade(settings.database_url)
        from switchboard_devstack.composite import ServiceDispatcher, build_apps

        # This process serves HTTP for every service on one port (the Ingress's path table); each service's
        # consumers and periodic workers run in a process of their own, as their Deployments do.
        apps = build_apps(run_workers=False)
        del apps["router"]  # no path leads to it: its work is all in its worker process
        workers = [ServiceProcess(name, {}, data_dir / "logs", name=f"{name}") for name in WORKER_SERVICES]
        for worker in workers:
            worker.start()
        try:
            for worker in workers:
                worker.wait_ready()
        except BaseException:
            for worker in workers:
                worker.kill9()
            raise
        dispatcher = ServiceDispatcher(apps, workers)
        print(f"switchboard: ready in {time.monotonic() - started:.1f}s", flush=True)
        _print_table(
            [
                ("Console / API", f"http://127.0.0.1:{port}/"),
                ("API docs", f"http://127.0.0.1:{port}/docs"),
                ("Webhooks", f"http://127.0.0.1:{port}/webhooks/..."),
                ("Services", "HTTP: this process; workers: " + ", ".join(f"{w.name} pid {w.pid}" for w in workers)),
                *stack.describe(),
                ("Logs", f"{data_dir / 'switchboard.log'}, {data_dir / 'logs'}/<service>.log"),
            ]
        )
        print("switchboard: Ctrl-C stops everything", flush=True)
        try:
            run_until_complete(serve([(dispatcher, "127.0.0.1", port)]))
        finally:
            # All at once: each drains and commits what it holds, side by side, then leaves its groups.
            for worker in workers:
                if worker.proc is not None and worker.running:
                    worker.proc.send_signal(signal.SIGTERM)
            for worker in workers:
                with contextlib.suppress(Exception):
                    if worker.proc is not None:
                        worker.proc.wait(20)
                worker.kill9()
    finally:
        print("switchboard: stopping ...", flush=True)
        stack.stop()
        print("switchboard: stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m switchboard_devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="start everything on one machine")
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    run_parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("DATA_DIR", ".switchboard")))
    args = parser.parse_args(argv)
    if args.command == "run":
        regions = [r.strip().lower() for r in os.environ.get("REGIONS", "").split(",") if r.strip()]
        if len(regions) > 1 and not os.environ.get("REGION"):
            # REGIONS=eu,us make run: every region (each a `make run` of its own), the directory, one port.
            from switchboard_devstack.regions import run_regions

            return run_regions(args.port, args.data_dir.absolute(), regions)
        return run(args.port, args.data_dir)
    return 2


if __name__ == "__main__":
    sys.exit(main())
