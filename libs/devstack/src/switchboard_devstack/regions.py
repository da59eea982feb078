"""`REGIONS=eu,us make run`: several regions (cells) on one machine, behind the one port.

Each region is a `make run` of its own (a child process: its own PostgreSQL, Valkey and tansu under
``DATA_DIR/<region>``, or the servers ``DATABASE_URL_<REGION>``, ``REDIS_URL_<REGION>`` and
``KAFKA_BOOTSTRAP_SERVERS_<REGION>`` name; its own service processes and logs), listening on a port of its own.
This process runs the global directory and the edge: every request on the one port goes to the region that
holds its account (switchboard_common.infra.regions), the first region listed for what names none.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from starlette.types import Receive, Scope, Send
from switchboard_common.infra.directory import Directory
from switchboard_common.infra.errors import error_body
from switchboard_common.infra.regions import RegionForwarding
from switchboard_common.infra.settings import CommonSettings, ConfigurationError

from switchboard_devstack.servers import free_port

# Single-region variables that must not leak into a region (each region's come from the _<REGION> ones).
STORE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS")
READY_SECONDS = 600.0


def region_env(region: str, environ: dict[str, str]) -> dict[str, str]:
    """A region's store variables: ``DATABASE_URL_EU`` becomes that region's ``DATABASE_URL``."""
    suffix = region.upper().replace("-", "_")
    return {name: environ[f"{name}_{suffix}"] for name in STORE_VARIABLES if environ.get(f"{name}_{suffix}")}


class RegionProcess:
    def __init__(self, region: str, data_dir: Path, env: dict[str, str]) -> None:
        self.region = region
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir / region
        self.env = env
        self.log_path = self.data_dir / "make-run.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "switchboard_devstack", "run", "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


class Edge:
    """The one port: ``/healthz``, ``/readyz`` (every region and the directory ready), everything else to its
    region."""

    def __init__(self, forwarding: RegionForwarding, regions: Sequence[RegionProcess], directory_url: str) -> None:
        self.forwarding = forwarding
        self.regions = list(regions)
        self.directory_url = directory_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.forwarding.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] == "http" and scope["path"] in ("/healthz", "/readyz"):
            waiting = [] if scope["path"] == "/healthz" else await self.not_ready()
            status = 503 if waiting else 200
            body = error_body("not_ready", "regions starting", {"waiting": waiting}) if waiting else {"status": "ok"}
            content = json.dumps(body).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(content)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": content})
            return
        await self.forwarding(None, scope, receive, send)

    async def not_ready(self) -> list[str]:
        targets = [("directory", self.directory_url), *((r.region, r.url) for r in self.regions)]
        async with httpx.AsyncClient(timeout=2.0) as client:

            async def ready(url: str) -> bool:
                try:
                    return (await client.get(f"{url}/readyz")).status_code == 200
                except httpx.HTTPError:
                    return False

            answers = await asyncio.gather(*(ready(url) for _name, url in targets))
        return [name for (name, _url), ok in zip(targets, answers, strict=True) if not ok]


def run_regions(port: int, data_dir: Path, regions: list[str]) -> int:
    """Starts the directory and the edge here and a `make run` per region, until SIGINT or SIGTERM."""
    from switchboard_common.infra.directory_server import create_directory_app
    from switchboard_common.infra.service import quiet_server, server_config

    started = time.monotonic()
    environ = dict(os.environ)
    directory_port = free_port()
    directory_url = f"http://127.0.0.1:{directory_port}"
    processes = [RegionProcess(r, data_dir, {}) for r in regions]
    shared = {
        "REGIONS": ",".join(regions),
        "REGION_URLS": ",".join(f"{p.region}={p.url}" for p in processes),
        "DIRECTORY_URL": directory_url,
    }
    for process in processes:
        process.env = {
            **{k: v for k, v in environ.items() if k not in STORE_VARIABLES},
            **shared,
            **region_env(process.region, environ),
            "REGION": process.region,
            "DATA_DIR": str(data_dir / process.region),
        }
    try:
        overrides: dict[str, Any] = {k.lower(): v for k, v in shared.items()}
        edge_settings = CommonSettings(
            **overrides,
            data_dir=str(data_dir),
            directory_data_dir=str(data_dir / "directory"),
        )
    except (ConfigurationError, ValueError) as exc:
        raise SystemExit(f"switchboard: configuration error: {exc}") from None
    directory_app = create_directory_app(edge_settings)
    forwarding = RegionForwarding(
        own=None,
        regions=regions,
        urls={p.region: p.url for p in processes},
        directory=Directory(edge_settings),
        max_body_bytes=edge_settings.max_body_bytes,
        name="edge",
    )
    edge = Edge(forwarding, processes, directory_url)
    print(f"switchboard: starting regions {', '.join(regions)} in {data_dir} ...", flush=True)

    async def main() -> int:
        servers = [
            quiet_server(server_config(edge, host="127.0.0.1", port=port)),
            quiet_server(server_config(directory_app, host="127.0.0.1", port=directory_port)),
        ]
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        tasks = [asyncio.create_task(server.serve()) for server in servers]
        for process in processes:
            process.start()
        code = 0
        try:
            deadline = time.monotonic() + READY_SECONDS
            while not stop.is_set():
                for process in processes:
                    if process.proc is not None and process.proc.poll() is not None:
                        print(f"switchboard: region {process.region} exited:\n{process.log_tail()}", flush=True)
                        return 1
                if not await edge.not_ready():
                    break
                if time.monotonic() > deadline:
                    print("switchboard: regions not ready in time", flush=True)
                    return 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)
            if not stop.is_set():
                print(f"switchboard: ready in {time.monotonic() - started:.1f}s", flush=True)
                rows = [
                    ("Console / API", f"http://127.0.0.1:{port}/  (every region)"),
                    ("Directory", f"{directory_url}  ({data_dir / 'directory'})"),
                    *(
                        (
                            f"Region {p.region}" + (" (default)" if i == 0 else ""),
                            f"{p.url}  data {p.data_dir}, log {p.log_path}",
                        )
                        for i, p in enumerate(processes)
                    ),
                ]
                width = max(len(label) for label, _ in rows)
                for label, value in rows:
                    print(f"  {label.ljust(width)}  {value}", flush=True)
                print("switchboard: Ctrl-C stops everything", flush=True)
                await stop.wait()
        finally:
            print("switchboard: stopping ...", flush=True)
            for process in processes:
                if process.proc is not None and process.proc.poll() is None:
                    process.proc.send_signal(signal.SIGTERM)
            for process in processes:
                if process.proc is not None:
                    try:
                        await asyncio.to_thread(process.proc.wait, 60)
                    except subprocess.TimeoutExpired:
                        process.proc.kill()
            for server in servers:
                server.should_exit = True
            await asyncio.gather(*tasks, return_exceptions=True)
            directory_app.state.store.close()
            print("switchboard: stopped", flush=True)
        return code

    return asyncio.run(main())
