"""Every service in the test's process and event loop, on a free port, with its own Kafka and Redis
namespaces (as `make run` runs them)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from switchboard_devstack import free_port
from switchboard_devstack.servers import StackUrls

from tests.helpers.databases import drop_database, system_database

if TYPE_CHECKING:
    from switchboard_common.infra.runtime import Resources
    from switchboard_common.infra.settings import CommonSettings


def make_env(urls: StackUrls, **overrides: str) -> dict[str, str]:
    namespace = f"t{uuid.uuid4().hex[:10]}"
    env = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": urls.database_url,
        "REDIS_URL": urls.redis_url,
        "KAFKA_BOOTSTRAP_SERVERS": urls.kafka_bootstrap_servers,
        "KAFKA_NAMESPACE": namespace,
        "REDIS_NAMESPACE": namespace,
        "KAFKA_TOPIC_PARTITIONS": "4",
        "DB_POOL_SIZE": "5",
        "LOG_JSON": "true",
    }
    env.update(overrides)
    return env


class LiveServer:
    """Every service in this process (as `make run` runs them) on a free port, in the test's event loop."""

    def __init__(self, env: dict[str, str]) -> None:
        from switchboard_common.infra.service import quiet_server, server_config
        from switchboard_devstack.composite import ServiceDispatcher, build_apps

        self.env = env
        self.apps = build_apps(env)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        # The production server configuration (frame limits, log filters), without pings in tests.
        config = server_config(ServiceDispatcher(self.apps), host="127.0.0.1", port=self.port, ws_ping_interval=None)
        self.server = quiet_server(config)
        self._task: asyncio.Task[None] | None = None

    def resources(self, service: str) -> Resources:
        """What the service's lifespan opened (engine, Redis, bus, attachment store), for tests that read the
        stores behind the API or drive a consumer by hand."""
        from switchboard_common.infra.runtime import Resources

        opened = self.apps[service].state.resources  # type: ignore[attr-defined]  # Starlette's State is untyped
        assert isinstance(opened, Resources), service
        return opened

    def settings(self) -> CommonSettings:
        """The settings every service of this system was started with."""
        from switchboard_common.infra.settings import CommonSettings

        return CommonSettings(**{key.lower(): value for key, value in self.env.items()})

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve())
        for _ in range(600):
            if self.server.started:
                return
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.05)
        raise TimeoutError("server did not start")

    def not_ready(self) -> list[str]:
        """The background workers (of every service) still joining their consumer groups: what each service's
        /readyz waits for."""
        waiting = []
        for name, app in self.apps.items():
            workers = getattr(getattr(app, "state", None), "workers", None)
            if workers is not None:
                waiting += [f"{name}:{worker}" for worker in workers.not_ready()]
        return waiting

    async def wait_ready(self, timeout: float = 60.0) -> None:
        """Waits until every service would answer /readyz with 200, as `make run` and Kubernetes do before sending
        traffic. A consumer group's first join takes seconds (the broker's initial rebalance delay): a test whose
        timing matters (a 2-second SLA) must not start before the router's writer owns its partitions, or the
        conversation waits unrouted past its due time."""
        deadline = asyncio.get_running_loop().time() + timeout
        while waiting := self.not_ready():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"not ready after {timeout} s: {', '.join(waiting)}")
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 30)


@contextlib.asynccontextmanager
async def live_server(urls: StackUrls, *, ready: bool = False, **overrides: str) -> AsyncIterator[LiveServer]:
    """Every service on a free port; with ``ready``, only once every consumer has joined (see
    :meth:`LiveServer.wait_ready`)."""
    own = None if "DATABASE_URL" in overrides else await system_database(urls.database_url)
    if own is not None:
        overrides["DATABASE_URL"] = own[1]
    try:
        server = LiveServer(make_env(urls, **overrides))
        await server.start()
        try:
            if ready:
                await server.wait_ready()
            yield server
        finally:
            await server.stop()
    finally:
        if own is not None:
            await drop_database(urls.database_url, own[0])
