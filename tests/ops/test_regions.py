"""`REGIONS=eu,us make run`: one account per region through the one port, then every store of each region
scanned (SQL dump, every Redis key, every Kafka record, files): each account's data is found in its own
region's stores and nowhere in the other's; the directory holds ids and keyed pseudonyms only. The channels'
webhooks (Slack, Messenger, the API channel) reach the one port too, signed as each platform signs, and land
in the region of the account that connected the workspace, page or inbox."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from switchboard_common.infra.settings import CommonSettings
from switchboard_devstack import LocalStack, free_port

from tests.fakes.graph import FakeGraph
from tests.fakes.slack import FakeSlack
from tests.helpers.api import Socket, Tenant
from tests.helpers.api_channel import post_signed
from tests.helpers.messenger import APP_SECRET, messenger_inbox, new_page, text_event, webhook
from tests.helpers.messenger import signed as messenger_signed
from tests.helpers.scan import scan_directory, scan_kafka, scan_postgres, scan_redis
from tests.helpers.slack import SIGNING_SECRET, envelope, new_team, slack_inbox
from tests.helpers.slack import signed as slack_signed

PASSWORD = "regions password 1"
REGIONS = ("eu", "us")


@pytest.fixture
def stacks(tmp_path: Path) -> Iterator[dict[str, LocalStack]]:
    """Each region's servers, started by the test and given to `make run` as DATABASE_URL_EU, ... (so the
    test can read them afterwards)."""
    started: dict[str, LocalStack] = {}
    try:
        for region in REGIONS:
            stack = LocalStack(tmp_path / f"stores-{region}", durable=False, env={})
            stack.start()
            started[region] = stack
        yield started
    finally:
        for stack in started.values():
            stack.stop()


@pytest.fixture
async def platforms() -> AsyncIterator[tuple[FakeSlack, FakeGraph]]:
    """Slack's Web API and Meta's Graph API, faked at the HTTP boundary: they prove who owns a workspace or page."""
    slack, graph = FakeSlack(), FakeGraph()
    await slack.start()
    await graph.start()
    yield slack, graph
    await slack.stop()
    await graph.stop()


def _start(
    data_dir: Path, port: int, stacks: dict[str, LocalStack], platforms: tuple[FakeSlack, FakeGraph]
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS")}
    # Few partitions: two regions' consumer groups join sooner on a busy machine.
    env.update(
        {"DATA_DIR": str(data_dir), "PORT": str(port), "REGIONS": ",".join(REGIONS), "KAFKA_TOPIC_PARTITIONS": "4"}
    )
    slack, graph = platforms
    env.update(
        {
            "SLACK_API_URL": slack.url,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "GRAPH_API_URL": graph.url,
            "MESSENGER_APP_SECRET": APP_SECRET,
        }
    )
    env.pop("REGION", None)
    for region, stack in stacks.items():
        urls = stack.urls()
        env[f"DATABASE_URL_{region.upper()}"] = urls.database_url
        env[f"REDIS_URL_{region.upper()}"] = urls.redis_url
        env[f"KAFKA_BOOTSTRAP_SERVERS_{region.upper()}"] = urls.kafka_bootstrap_servers
    return subprocess.Popen(
        [sys.executable, "-m", "switchboard_devstack", "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def _output(proc: subprocess.Popen[bytes]) -> str:
    if proc.stdout is None or proc.stdout.closed:
        return ""
    text = proc.stdout.read().decode()
    proc.stdout.close()
    return text


async def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            assert proc.poll() is None, _output(proc)
            try:
                if (await client.get(f"{url}/readyz", timeout=5)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.5)
    raise TimeoutError("REGIONS=eu,us make run did not become ready")


async def _seed(client: httpx.AsyncClient, ws_url: str, region: str | None, marker: str) -> dict[str, str]:
    """An account (in ``region``; None: the default), its web inbox, and a visitor's message: every value
    carries ``marker``, so a scan can tell whose data it found."""
    email = f"owner-{marker}@example.com"
    body = {"account_name": f"Account {marker}", "email": email, "password": PASSWORD}
    if region is not None:
        body["region"] = region
    response = await client.post("/api/v1/signup", json=body)
    assert response.status_code == 201, response.text
    account = response.json()
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    tokens = response.json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = await client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200, me.text
    inbox = await client.post("/api/v1/inboxes", json={"name": f"Site {marker}", "channel": "web"}, headers=headers)
    assert inbox.status_code == 201, inbox.text
    widget_token = inbox.json()["widget_token"]
    visitor = await client.post(
        "/api/v1/widget/sessions",
        json={"widget_token": widget_token, "name": f"Visitor {marker}", "email": f"visitor-{marker}@example.com"},
    )
    assert visitor.status_code == 201, visitor.text
    session = visitor.json()
    sent = await client.post(
        "/api/v1/widget/messages",
        json={"text": f"my order {marker} never arrived"},
        headers={"Authorization": f"Bearer {session['visitor_token']}"},
    )
    assert sent.status_code in (200, 201, 202), sent.text
    # A refreshed token and the agent's socket reach the account's region through the one port too.
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    socket = await Socket.open(f"{ws_url}/api/v1/ws?token={tokens['access_token']}")
    try:
        ready = await socket.wait_for(lambda f: f.get("type") == "session.ready", timeout=60)
        assert ready["agent_id"] == account["user_id"]
    finally:
        await socket.close()
    return {
        "account_id": account["account_id"],
        "owner_id": account["user_id"],
        "token": tokens["access_token"],
        "region": account["region"],
        "email": email,
        "text": f"my order {marker} never arrived",
        "visitor": f"Visitor {marker}",
        "marker": marker,
    }


def _tenant(seeded: dict[str, str]) -> Tenant:
    return Tenant(
        account_id=seeded["account_id"], owner_id=seeded["owner_id"], token=seeded["token"], email=seeded["email"]
    )


async def _channels(
    client: httpx.AsyncClient, platforms: tuple[FakeSlack, FakeGraph], eu: dict[str, str], us: dict[str, str]
) -> None:
    """A Slack workspace connected in the EU, a Messenger page and an API inbox in the US; each platform's
    webhook reaches the one port and must land in its account's region (its conversation appears there)."""
    slack, graph = platforms
    eu_tenant, us_tenant = _tenant(eu), _tenant(us)
    team, page = new_team(), new_page()
    await slack_inbox(client, eu_tenant, team, slack)
    await messenger_inbox(client, us_tenant, page, graph)
    created = await client.post(
        "/api/v1/inboxes", headers=us_tenant.headers, json={"name": "Shop", "channel": "api", "settings": {}}
    )
    assert created.status_code == 201, created.text
    api_inbox = created.json()

    eu["channel slack"] = f"slack words {eu['marker']}"
    body = envelope(
        team,
        {
            "type": "message",
            "channel": "CSUP",
            "channel_type": "channel",
            "user": "UCUST",
            "text": eu["channel slack"],
            "ts": f"{int(time.time())}.000100",
        },
    )
    response = await client.post("/webhooks/slack/events", content=body, headers=slack_signed(body))
    assert response.status_code == 200, response.text

    us["channel messenger"] = f"messenger words {us['marker']}"
    body = webhook([(page, [text_event(page, str(uuid.uuid4().int % 10**12), "m-1", us["channel messenger"])])])
    response = await client.post("/webhooks/messenger", content=body, headers=messenger_signed(body))
    assert response.status_code == 200, response.text
    assert response.json().get("accepted") == 1, response.text  # reached the US region, which knows the page

    us["channel api"] = f"api words {us['marker']}"
    payload = {"contact": {"external_id": "cust-1", "name": "Ada"}, "message": {"id": "m-1", "text": us["channel api"]}}
    response = await post_signed(client, api_inbox["id"], api_inbox["secret"], payload)
    assert response.status_code == 202, response.text

    for tenant, expected in ((eu_tenant, {"web", "slack"}), (us_tenant, {"web", "messenger", "api"})):
        deadline = time.monotonic() + 120
        while True:
            listed = await client.get("/api/v1/conversations", headers=tenant.headers)
            assert listed.status_code == 200, listed.text
            channels = {c.get("channel") for c in listed.json()}
            if channels >= expected:
                break
            assert time.monotonic() < deadline, f"conversations of {tenant.account_id} by channel: {channels}"
            await asyncio.sleep(0.5)


@pytest.mark.slow
@pytest.mark.timeout(1200)  # two whole systems start on 2 shared cores
async def test_each_accounts_data_stays_in_its_region(
    tmp_path: Path, stacks: dict[str, LocalStack], platforms: tuple[FakeSlack, FakeGraph]
) -> None:
    data_dir = tmp_path / "run"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _start(data_dir, port, stacks, platforms)
    try:
        await _wait_ready(url, proc)
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            unknown = await client.post(
                "/api/v1/signup",
                json={"account_name": "x", "email": "x@example.com", "password": PASSWORD, "region": "mars"},
            )
            assert unknown.status_code == 400, unknown.text
            assert unknown.json()["error"]["code"] == "unknown_region"
            eu = await _seed(client, url.replace("http", "ws"), None, f"eu{uuid.uuid4().hex[:10]}")
            us = await _seed(client, url.replace("http", "ws"), "us", f"us{uuid.uuid4().hex[:10]}")
            assert (eu["region"], us["region"]) == ("eu", "us")
            # One login e-mail, one region: the address taken in the US cannot sign up again in the EU.
            again = await client.post(
                "/api/v1/signup",
                json={"account_name": "again", "email": us["email"], "password": PASSWORD, "region": "eu"},
            )
            assert again.status_code == 409, again.text
            await _channels(client, platforms, eu, us)
            await asyncio.sleep(3)  # the routers and privacy workers have handled the events
        scans: dict[str, str] = {}
        for region, stack in stacks.items():
            urls = stack.urls()
            settings = CommonSettings(
                database_url=urls.database_url,
                redis_url=urls.redis_url,
                kafka_bootstrap_servers=urls.kafka_bootstrap_servers,
            )
            scans[region] = "\n".join(
                [
                    await scan_postgres(stack, urls.database_url),
                    await scan_redis(urls.redis_url),
                    await scan_kafka(settings, urls.database_url),
                    scan_directory(data_dir / region),
                ]
            )
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            await asyncio.to_thread(proc.wait, 90)
        output = _output(proc)
    assert "switchboard: stopped" in output, output

    for mine, other, seeded in (("eu", "us", eu), ("us", "eu", us)):
        for field in ("account_id", "email", "text", "visitor", *[f for f in seeded if f.startswith("channel ")]):
            assert seeded[field] in scans[mine], f"{field} of the {mine} account missing from {mine}'s stores"
            assert seeded[field] not in scans[other], f"{field} of the {mine} account found in {other}'s stores"
        assert seeded["marker"] not in scans[other]
    directory = scan_directory(data_dir / "directory")
    for seeded in (eu, us):
        assert seeded["email"] not in directory
        assert seeded["marker"] not in directory
