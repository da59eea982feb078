"""Real servers for the whole suite: PostgreSQL, Valkey and a Kafka-protocol broker, started once per
session from PyPI wheels (or taken from DATABASE_URL / REDIS_URL / KAFKA_BOOTSTRAP_SERVERS). Every app
a test starts gets its own Kafka namespace (topics, consumer groups) and Redis namespace, and every test
signs up its own account, so tests never see each other's data."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from switchboard_devstack import LocalStack
from switchboard_devstack.servers import StackUrls

from tests.fakes.graph import FakeGraph
from tests.fakes.slack import FakeSlack
from tests.helpers.databases import create_template
from tests.helpers.live import LiveServer, live_server
from tests.helpers.tenancy import unscoped_statements


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    data_dir = Path(tempfile.mkdtemp(prefix="switchboard-test-"))
    local = LocalStack(data_dir, durable=False, database="switchboard_test")
    try:
        local.start()
        from switchboard_common.migrations import upgrade

        upgrade(local.urls().database_url)
        create_template(local.urls().database_url)
        yield local
    finally:
        local.stop()
        # Every test process starts its own servers: left behind, their data filled the disk (about 50 MB per
        # module, so gigabytes per `make test`).
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def stack_urls(stack: LocalStack) -> StackUrls:
    return stack.urls()


@pytest.fixture(scope="session")
async def server(stack_urls: StackUrls) -> AsyncIterator[LiveServer]:
    """The shared live system; tests isolate themselves by signing up their own account."""
    async with live_server(stack_urls) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """Slack's Web API on a local port (SLACK_API_URL), one per module that asks for it."""
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture(scope="module")
async def fake_graph() -> AsyncIterator[FakeGraph]:
    """Meta's Graph API on a local port (GRAPH_API_URL), one per module that asks for it."""
    fake = FakeGraph()
    await fake.start()
    yield fake
    await fake.stop()


def pytest_sessionstart(session: pytest.Session) -> None:
    os.environ.setdefault("ENVIRONMENT", "test")


def pytest_unconfigure(config: pytest.Config) -> None:
    """The closing line `make test` promises, after pytest's own summary, with -q or -n alike: errors (a
    fixture that failed) count as failures."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or hasattr(config, "workerinput"):  # an xdist worker: the controller prints it
        return
    stats = reporter.stats
    passed = len(stats.get("passed", []))
    failed = len(stats.get("failed", [])) + len(stats.get("error", []))
    skipped = len(stats.get("skipped", []))
    reporter.write_line(f"{passed} passed, {failed} failed, {skipped} skipped")


@pytest.fixture(autouse=True)
def every_query_is_scoped_to_an_account() -> Iterator[None]:
    """Fails the test during which any statement read or changed a tenant table without an account filter
    (a scoped session adds it; raw SQL writes it; a cross-tenant sweep says so): see tests/helpers/tenancy.py."""
    seen = len(unscoped_statements)
    yield
    found = unscoped_statements[seen:]
    assert not found, "statements on tenant tables without an account filter:\n" + "\n---\n".join(found[:5])
