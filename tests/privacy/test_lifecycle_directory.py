"""With several regions, the account lifecycle frees what the global directory holds for an account: its pages
and workspaces when it is terminated (another account, in any region, may connect them), everything (the
account, its inboxes, its logins' keyed e-mails) when it is purged."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import uvicorn
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.directory import Directory
from switchboard_common.infra.directory_server import create_directory_app
from switchboard_common.infra.service import server_config
from switchboard_common.infra.settings import CommonSettings
from switchboard_devstack import free_port
from switchboard_devstack.servers import StackUrls
from switchboard_privacy.lifecycle.sweep import sweep

from tests.fakes.graph import FakeGraph
from tests.helpers.api import create_web_inbox, signup
from tests.helpers.live import LiveServer, live_server
from tests.helpers.messenger import messenger_inbox, new_page

REGIONS = {"REGIONS": "eu,us", "REGION": "eu", "DIRECTORY_TOKEN": "lifecycle-directory-token"}


@pytest.fixture(scope="module")
async def directory_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """The global directory, as `python -m switchboard_ops directory` serves it."""
    settings = CommonSettings(
        regions=REGIONS["REGIONS"],
        region="eu",
        directory_token=REGIONS["DIRECTORY_TOKEN"],
        directory_url="http://unused",
        directory_data_dir=str(tmp_path_factory.mktemp("directory")),
    )
    app = create_directory_app(settings)
    port = free_port()
    server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the directory did not start"
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task
    app.state.store.close()


@pytest.fixture(scope="module")
async def system(
    stack_urls: StackUrls, directory_url: str, fake_graph: FakeGraph, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    async with live_server(
        stack_urls,
        DATA_DIR=str(tmp_path_factory.mktemp("lifecycle-regions")),
        SUBJECT_KEY_CACHE_SECONDS="0",
        DIRECTORY_URL=directory_url,
        GRAPH_API_URL=fake_graph.url,
        **REGIONS,
    ) as live:
        yield live


async def regions_of(settings: CommonSettings, entries: dict[str, tuple[str, str]]) -> dict[str, str | None]:
    """Each entry's region as the directory answers now (a fresh client: no cached answers)."""
    directory = Directory(settings)
    try:
        return {name: await directory.lookup(kind, key) for name, (kind, key) in entries.items()}  # type: ignore[arg-type]
    finally:
        await directory.close()


async def test_termination_frees_pages_and_the_purge_frees_everything(
    system: LiveServer, fake_graph: FakeGraph
) -> None:
    resources = system.resources("privacy")
    settings = resources.settings
    assert resources.directory.enabled
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        account = uuid.UUID(tenant.account_id)
        web = await create_web_inbox(client, tenant)
        page = new_page()
        await messenger_inbox(client, tenant, page, fake_graph)
    entries = {
        "account": ("account", str(account)),
        "login": ("email", resources.directory.email_key(tenant.email)),
        "inbox": ("inbox", str(web["id"])),
        "page": ("messenger_page", page),
    }
    assert await regions_of(settings, entries) == dict.fromkeys(entries, "eu")

    now = utcnow()
    assert (await sweep(resources, settings, now + timedelta(days=15), only=[account]))["suspended"] == 1
    assert (await sweep(resources, settings, now + timedelta(days=76), only=[account]))["terminated"] == 1
    # Terminated: the page is free for whoever owns it, anywhere; the account can still be found for its export.
    assert await regions_of(settings, entries) == {"account": "eu", "login": "eu", "inbox": "eu", "page": None}

    assert (await sweep(resources, settings, now + timedelta(days=107), only=[account]))["purged"] == 1
    assert await regions_of(settings, entries) == dict.fromkeys(entries, None)
