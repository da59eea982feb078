"""Every service behind one port, for `make run` and end-to-end tests.

Requests go to the service that production's Ingress would pick (``switchboard_common.infra.topology``); each
service keeps its own app, lifespan and resources, exactly as when it runs alone. `make run` serves the
HTTP side here and runs each service's consumers and periodic workers in a process of its own (``workers``),
as Kubernetes does: one event loop cannot carry every service at hundreds of messages a second. Tests run
everything in one process (no ``workers``). ``/readyz`` answers for the whole: 200 once this process's
dependencies answer and every worker process is ready (its consumer groups joined, partitions held).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send
from switchboard_common.infra.http import ReadinessCheck, check_readiness
from switchboard_common.infra.topology import DEFAULT_SERVICE, service_for_path

from switchboard_devstack.processes import ServiceProcess

SUPERVISE_SECONDS = 1.0


class ServiceDispatcher:
    def __init__(self, apps: Mapping[str, Starlette], workers: Sequence[ServiceProcess] = ()) -> None:
        self.apps = dict(apps)
        self.workers = list(workers)
        self._stack: contextlib.AsyncExitStack | None = None
        self._http: httpx.AsyncClient | None = None
        self._supervisor: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if self.workers and scope["type"] == "http" and scope.get("path") == "/readyz":
            await (await check_readiness(self._readiness_checks()))(scope, receive, send)
            return
        app = self.apps.get(service_for_path(scope.get("path", ""))) or self.apps[DEFAULT_SERVICE]
        await app(scope, receive, send)

    def _readiness_checks(self) -> dict[str, ReadinessCheck]:
        gateway = self.apps[DEFAULT_SERVICE]
        checks: dict[str, ReadinessCheck] = dict(gateway.state.resources.readiness_checks())
        for worker in self.workers:
            checks[f"{worker.name} workers"] = self._worker_check(worker)
        return checks

    def _worker_check(self, worker: ServiceProcess) -> ReadinessCheck:
        async def ready() -> None:
            assert self._http is not None
            response = await self._http.get(f"{worker.url}/readyz")
            if response.status_code != 200:
                raise ConnectionError(f"{worker.name} not ready")

        return ready

    async def _supervise(self) -> None:
        """A worker process that died is started again, as Kubernetes restarts a pod."""
        while True:
            await asyncio.sleep(SUPERVISE_SECONDS)
            for worker in self.workers:
                if not worker.running:
                    worker.start()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._stack = contextlib.AsyncExitStack()
                try:
                    for app in self.apps.values():
                        # FastAPI does not run a mounted app's lifespan: enter each one explicitly.
                        await self._stack.enter_async_context(app.router.lifespan_context(app))
                except BaseException as exc:
                    await self._stack.aclose()
                    await send({"type": "lifespan.startup.failed", "message": type(exc).__name__ + ": " + str(exc)})
                    return
                if self.workers:
                    self._http = httpx.AsyncClient(timeout=2.0)
                    self._supervisor = asyncio.create_task(self._supervise())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._supervisor is not None:
                    self._supervisor.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await self._supervisor
                if self._http is not None:
                    await self._http.aclose()
                if self._stack is not None:
                    await self._stack.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


def build_apps(env: Mapping[str, str] | None = None, *, run_workers: bool = True) -> dict[str, Starlette]:
    """The four service apps, configured from the environment (or ``env``); without their background workers
    when ``run_workers`` is false (they run in processes of their own)."""
    from switchboard_connectors.app import create_app as connectors_app
    from switchboard_connectors.settings import ConnectorSettings
    from switchboard_gateway.app import create_app as gateway_app
    from switchboard_gateway.settings import GatewaySettings
    from switchboard_privacy.app import create_app as privacy_app
    from switchboard_privacy.settings import PrivacySettings
    from switchboard_router.app import create_app as router_app
    from switchboard_router.settings import RouterSettings

    # Values go through each settings class's validation (and its environment sources), hence Any here.
    kwargs: dict[str, Any] = {k.lower(): v for k, v in (env or {}).items()}
    return {
        "gateway": gateway_app(GatewaySettings(**kwargs), run_workers=run_workers),
        "connectors": connectors_app(ConnectorSettings(**kwargs), run_workers=run_workers),
        "router": router_app(RouterSettings(**kwargs), run_workers=run_workers),
        "privacy": privacy_app(PrivacySettings(**kwargs), run_workers=run_workers),
    }
