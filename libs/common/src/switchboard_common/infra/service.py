"""Running a service: background workers beside the HTTP server, and the process entry point."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import structlog
from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from starlette.types import ASGIApp

from switchboard_common.infra.bus import share_groups
from switchboard_common.infra.directory import Directory
from switchboard_common.infra.http import install_common, metrics_app
from switchboard_common.infra.logging import hide_query_strings
from switchboard_common.infra.openapi import install_openapi, operation_id
from switchboard_common.infra.regions import RegionForwarding, RegionForwardingMiddleware
from switchboard_common.infra.runtime import EventCodecFactory, Resources
from switchboard_common.infra.settings import CommonSettings
from switchboard_common.infra.tracing import configure_tracing

if TYPE_CHECKING:
    import uvicorn

log = structlog.get_logger(__name__)
T = TypeVar("T")

NO_FRAMEWORK_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


class Worker(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class RoleWorker(Worker, Protocol):
    """A worker run only by the processes of its role (``--workers``); workers without one run in every process."""

    role: str


class BackgroundWorkers:
    """Starts workers in order and stops them in reverse."""

    def __init__(self, workers: Sequence[Worker]) -> None:
        self.workers = list(workers)
        self._started: list[Worker] = []

    def not_ready(self) -> list[str]:
        """Workers that have not yet joined their consumer group and taken their partitions (those with a
        ``ready`` property: consumers); /readyz answers 503 until this is empty."""
        return [
            str(getattr(w, "group", type(w).__name__))
            for w in self.workers
            if not getattr(w, "ready", True) or w not in self._started
        ]

    def select(self, names: Sequence[str]) -> BackgroundWorkers:
        """Only the workers of these roles (``role`` attribute; "all" keeps every one, and workers without a
        role, such as API clients the consumers share, are always kept): a process per role, as
        Kubernetes runs the connectors' ingest and outbound workers apart from its webhooks."""
        if "all" in names:
            return self
        return BackgroundWorkers([w for w in self.workers if getattr(w, "role", "shared") in (*names, "shared")])

    def sharing_groups(self, service: str) -> BackgroundWorkers:
        """The same workers, with the process's consumers of the conversations topic in one consumer group and one
        fetch loop (:func:`switchboard_common.infra.bus.share_groups`)."""
        return BackgroundWorkers(share_groups(self.workers, service))

    async def start(self) -> None:
        for worker in self.workers:
            await worker.start()
            self._started.append(worker)

    async def stop(self) -> None:
        for worker in reversed(self._started):
            try:
                await worker.stop()
            except Exception as exc:
                log.warning("worker_stop_failed", error=type(exc).__name__)
        self._started.clear()


# The largest WebSocket frame a client may send: a 10,000-character message (the API's limit) in JSON with room
# to spare. Clients only send small control frames (auth, presence, typing, receipts); uvicorn's default of
# 16 MiB would let each socket make the server buffer 16 MiB before our code sees a byte.
WS_MAX_FRAME_BYTES = 64 * 1024


def server_config(
    app: ASGIApp, *, host: str, port: int, log_level: str = "warning", **overrides: Any
) -> uvicorn.Config:
    """The uvicorn configuration every server of ours runs with (``make run``, each service, the tests)."""
    import uvicorn

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "lifespan": "on",
        "ws_ping_interval": 20,
        "ws_ping_timeout": 20,
        "ws_max_size": WS_MAX_FRAME_BYTES,
        "timeout_graceful_shutdown": 10,
        **overrides,
    }
    config = uvicorn.Config(app, **options)
    # After uvicorn configured its loggers: request lines must never carry query strings (tokens, e-mails).
    hide_query_strings()
    return config


def quiet_server(config: uvicorn.Config) -> uvicorn.Server:
    """A uvicorn server that leaves SIGINT and SIGTERM to its caller, who stops several servers at once (each
    server's own handlers would replace the previous server's, and a test's server would swallow Ctrl-C)."""
    import uvicorn

    class QuietServer(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return QuietServer(config)


async def freeze_after_startup(servers: Sequence[uvicorn.Server]) -> None:
    """Once every server has started (lifespans ran: engines, clients, caches and every imported module's
    objects exist), moves what the process holds into the collector's permanent generation. A full collection
    then no longer walks those hundreds of thousands of objects: in the gateway's process one took 149 ms before
    and nothing after, and `make run`'s front ran six in 106 s at 100 msg/s, each a stall of its event loop.
    Only in the server processes (``python -m switchboard_<service>``, ``make run``): a frozen object is never
    collected, which a test process starting one system after another must not do."""
    while not all(server.started for server in servers):  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.1)
    gc.collect()  # garbage of the startup goes first: frozen, it would stay for good
    gc.freeze()


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's event loop where it is installed (uvicorn's own default, ``loop="auto"``), else asyncio's. Every
    socket read and write of a request (HTTP, PostgreSQL, Valkey, Kafka) goes through the loop's transports:
    asyncio's pure-Python selector loop spent about a third of the ack path's CPU there."""
    try:
        import uvloop
    except ImportError:  # not built for this platform (uvicorn[standard] leaves it out on Windows)
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def run_until_complete(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on the loop of :func:`event_loop_factory`: the processes that serve (each service,
    ``make run``)."""
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        return runner.run(main)


async def serve(apps: Sequence[tuple[ASGIApp, str, int]], *, log_level: str = "warning") -> None:
    """Serves ASGI apps (app, host, port) in one event loop until SIGINT or SIGTERM, then shuts down."""

    # We own the signals: one Ctrl-C stops every server together.
    servers = [quiet_server(server_config(app, host=host, port=port, log_level=log_level)) for app, host, port in apps]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    stopper = asyncio.create_task(stop.wait())
    freezer = asyncio.create_task(freeze_after_startup(servers))
    await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
    freezer.cancel()
    for server in servers:
        server.should_exit = True
    await asyncio.gather(*tasks, return_exceptions=True)
    stopper.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await stopper


def create_service_app(
    *,
    service: str,
    title: str,
    settings: CommonSettings,
    event_codec: EventCodecFactory,
    workers: Callable[[Resources], BackgroundWorkers],
    run_workers: bool | Sequence[str] = True,
    description: str = "",
    on_startup: Callable[[FastAPI, Resources], Awaitable[None]] | None = None,
    before_shutdown: Callable[[FastAPI], Awaitable[None]] | None = None,
) -> FastAPI:
    """A service's FastAPI app whose lifespan owns its resources and background workers (polar-style)."""

    directory = Directory(settings)
    # Several regions: a request for another region's account is relayed there before any of its data is read
    # or written here (switchboard_common.infra.regions).
    forwarding = RegionForwarding.from_settings(settings, directory) if settings.multi_region else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_tracing(service)
        resources = await Resources.open(settings, event_codec, directory=directory)
        app.state.resources = resources
        if run_workers is True:
            running = workers(resources)
        elif run_workers:
            running = workers(resources).select(list(run_workers))
        else:
            running = BackgroundWorkers([])
        running = running.sharing_groups(service)
        app.state.workers = running
        try:
            if on_startup is not None:
                await on_startup(app, resources)
            await running.start()
            yield
        finally:
            # Stop taking work, then finish and commit what is in hand, then close connections.
            if before_shutdown is not None:
                await before_shutdown(app)
            await running.stop()
            if forwarding is not None:
                await forwarding.aclose()
            await resources.close()

    app = FastAPI(
        title=title,
        version="1.0.0",
        description=description,
        lifespan=lifespan,
        # FastAPI's built-in OpenTelemetry switches itself on once a tracer provider exists (ours does): it would
        # add a second server span per request, spans per dependency, and exception messages (which may quote
        # personal data) to logs. switchboard_common.infra.tracing owns the request span, with safe attributes only.
        telemetry=NO_FRAMEWORK_TELEMETRY,
        generate_unique_id_function=operation_id,
    )
    install_openapi(app)
    app.state.settings = settings
    install_common(
        app,
        service=service,
        max_body_bytes=settings.max_body_bytes,
        readiness=lambda: {**app.state.resources.readiness_checks(), "consumers": _consumers_check(app)},
        metrics_on_app_port=settings.metrics_port is None,
    )
    if forwarding is not None:
        app.add_middleware(RegionForwardingMiddleware, forwarding=forwarding)
    return app


def _consumers_check(app: FastAPI) -> Callable[[], Awaitable[None]]:
    async def consumers() -> None:
        waiting = app.state.workers.not_ready()
        if waiting:
            raise ConsumersJoining(", ".join(waiting))

    return consumers


class ConsumersJoining(Exception):
    """Consumer groups of this process still joining: the process is not ready for traffic."""


def run_service(create_app: Callable[..., FastAPI], settings: CommonSettings, *, host: str, port: int) -> None:
    """``python -m switchboard_<service>``: one service, its HTTP server and its background workers."""
    import argparse

    from switchboard_common.infra.logging import configure_logging

    parser = argparse.ArgumentParser(prog=f"python -m switchboard_{settings.service_name}")
    parser.add_argument("--host", default=host)
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--no-workers", action="store_true", help="serve HTTP only (scale consumers separately)")
    parser.add_argument(
        "--workers", default="all", help="background worker roles to run, comma separated (e.g. ingest,outbound)"
    )
    args = parser.parse_args()
    configure_logging(settings.log_level, json_output=settings.log_json, service=settings.service_name)
    roles = [r.strip() for r in args.workers.split(",") if r.strip()]
    app = create_app(settings, run_workers=False if args.no_workers else (True if roles == ["all"] else roles))
    servers: list[tuple[ASGIApp, str, int]] = [(app, args.host, args.port)]
    if settings.metrics_port is not None:
        servers.append((metrics_app, args.host, settings.metrics_port))
    run_until_complete(serve(servers))
