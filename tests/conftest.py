"""Real servers for the whole suite: PostgreSQL, Valkey and a Kafka-protocol broker, started once per
session from PyPI wheels (or taken from DATABASE_URL / REDIS_URL / KAFKA_BOOTSTRAP_SERVERS). Every app
a test starts gets its own Kafka namespace (topics, consumer groups) and Redis namespace, and every test
signs up its own account, so tests never see each other's data."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from switchboard_devstack import LocalStack, free_port
from switchboard_devstack.servers import StackUrls


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    data_dir = Path(tempfile.mkdtemp(prefix="switchboard-test-"))
    local = LocalStack(data_dir, durable=False, database="switchboard_test")
    local.start()
    from switchboard_common.db.migrate import upgrade

    upgrade(local.urls().database_url)
    yield local
    local.stop()


@pytest.fixture(scope="session")
def stack_urls(stack: LocalStack) -> StackUrls:
    return stack.urls()


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
        from switchboard_common.service import server_config
        from switchboard_devstack.composite import ServiceDispatcher, build_apps

        self.env = env
        self.apps = build_apps(env)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        # The production server configuration (frame limits, log filters), without pings in tests.
        config = server_config(ServiceDispatcher(self.apps), host="127.0.0.1", port=self.port, ws_ping_interval=None)
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve())
        for _ in range(600):
            if self.server.started:
                return
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.05)
        raise TimeoutError("server did not start")

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 30)


@contextlib.asynccontextmanager
async def live_server(urls: StackUrls, **overrides: str) -> AsyncIterator[LiveServer]:
    server = LiveServer(make_env(urls, **overrides))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(scope="session")
async def server(stack_urls: StackUrls) -> AsyncIterator[LiveServer]:
    """The shared live system; tests isolate themselves by signing up their own account."""
    async with live_server(stack_urls) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        yield http


def pytest_sessionstart(session: pytest.Session) -> None:
    os.environ.setdefault("ENVIRONMENT", "test")
