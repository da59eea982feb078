"""Channel takeover across accounts is impossible: a Messenger page, a Slack channel and a Slack workspace are
connected at most once in the installation (409 channel_already_connected, on create and on update), the
connection proves ownership against the platform (Graph API ``/me``, Slack ``auth.test``, faked at the HTTP
boundary), and webhooks reach the inbox that connected the identity, never just any inbox naming it."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from switchboard_devstack.servers import StackUrls

from tests.fakes.graph import FakeGraph
from tests.fakes.slack import FakeSlack
from tests.helpers.api import Tenant, signup
from tests.helpers.live import LiveServer, live_server

SLACK_SECRET = "channels-slack-signing-secret"
APP_SECRET = "channels-messenger-app-secret"


@pytest.fixture(scope="module")
async def system(stack_urls: StackUrls, fake_slack: FakeSlack, fake_graph: FakeGraph) -> AsyncIterator[LiveServer]:
    slack, graph = fake_slack, fake_graph
    async with live_server(
        stack_urls,
        SLACK_API_URL=slack.url,
        GRAPH_API_URL=graph.url,
        SLACK_SIGNING_SECRET=SLACK_SECRET,
        MESSENGER_APP_SECRET=APP_SECRET,
        SLACK_CLIENT_ID="123.456",
        SLACK_CLIENT_SECRET="client-secret",
    ) as live:
        yield live


@pytest.fixture
async def client(system: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as http:
        yield http


def new_page() -> str:
    return str(uuid.uuid4().int % 10**15)


def new_team() -> str:
    return "T" + uuid.uuid4().hex[:9].upper()


async def messenger(client: httpx.AsyncClient, tenant: Tenant, page: str, token: str) -> httpx.Response:
    return await client.post(
        "/api/v1/inboxes",
        headers=tenant.headers,
        json={"name": "Page", "channel": "messenger", "settings": {"page_id": page, "page_access_token": token}},
    )


async def slack(client: httpx.AsyncClient, tenant: Tenant, team: str, channel: str, token: str) -> httpx.Response:
    settings = {"team_id": team, "channel_id": channel, "bot_token": token, "bot_user_id": "UBOT"}
    return await client.post(
        "/api/v1/inboxes", headers=tenant.headers, json={"name": "Slack", "channel": "slack", "settings": settings}
    )


def refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text


async def test_a_messenger_page_is_connected_once(
    client: httpx.AsyncClient, fake_slack: FakeSlack, fake_graph: FakeGraph
) -> None:
    graph = fake_graph
    victim, attacker = await signup(client), await signup(client)
    page, other_page = new_page(), new_page()
    created = await messenger(client, victim, page, graph.page_token(page))
    assert created.status_code == 201, created.text
    # Another account naming the connected page: refused, with a made-up token or even a real one of that page.
    refused(await messenger(client, attacker, page, "EAAG-made-up-token"), 409, "channel_already_connected")
    refused(await messenger(client, attacker, page, graph.page_token(page)), 409, "channel_already_connected")
    # The same account cannot connect it twice either.
    refused(await messenger(client, victim, page, graph.page_token(page)), 409, "channel_already_connected")
    # A free page needs a token of that very page: another page's token or an unknown one proves nothing.
    refused(await messenger(client, attacker, other_page, graph.page_token(page)), 403, "channel_not_owned")
    refused(await messenger(client, attacker, other_page, "EAAG-made-up-token"), 403, "invalid_channel_token")
    own = await messenger(client, attacker, other_page, graph.page_token(other_page))
    assert own.status_code == 201, own.text
    # On update too: moving an inbox onto the connected page, or onto a page its token does not belong to.
    moved = await client.patch(
        f"/api/v1/inboxes/{own.json()['id']}", json={"settings": {"page_id": page}}, headers=attacker.headers
    )
    refused(moved, 409, "channel_already_connected")
    third = new_page()
    moved = await client.patch(
        f"/api/v1/inboxes/{own.json()['id']}", json={"settings": {"page_id": third}}, headers=attacker.headers
    )
    refused(moved, 403, "channel_not_owned")
    # Secrets never appear in the answers.
    assert "EAAG" not in moved.text and "EAAG" not in created.text


async def test_a_slack_workspace_belongs_to_one_account(
    client: httpx.AsyncClient, fake_slack: FakeSlack, fake_graph: FakeGraph
) -> None:
    victim, attacker = await signup(client), await signup(client)
    team, other_team = new_team(), new_team()
    token = fake_slack.install(f"xoxb-{team.lower()}", team)
    assert (await slack(client, victim, team, "CSUPPORT", token)).status_code == 201
    # The victim's workspace, in any channel, is not the attacker's to connect.
    refused(await slack(client, attacker, team, "CSUPPORT", token), 409, "channel_already_connected")
    refused(await slack(client, attacker, team, "COTHER", "xoxb-guessed"), 409, "channel_already_connected")
    # The same channel twice is refused; another channel of the same workspace is fine for its own account.
    refused(await slack(client, victim, team, "CSUPPORT", token), 409, "channel_already_connected")
    agents_room = await slack(client, victim, team, "CAGENTS", token)
    assert agents_room.status_code == 201, agents_room.text
    # A free workspace needs a bot token of that workspace (auth.test names the team).
    refused(await slack(client, attacker, other_team, "C1", token), 403, "channel_not_owned")
    refused(await slack(client, attacker, other_team, "C1", "xoxb-guessed"), 403, "invalid_channel_token")
    own_token = fake_slack.install(f"xoxb-{other_team.lower()}", other_team)
    own = await slack(client, attacker, other_team, "C1", own_token)
    assert own.status_code == 201, own.text
    moved = await client.patch(
        f"/api/v1/inboxes/{own.json()['id']}",
        json={"settings": {"team_id": team, "bot_token": token}},
        headers=attacker.headers,
    )
    refused(moved, 409, "channel_already_connected")
    # Moving away releases: when the attacker's only inbox of other_team moves to a new workspace of theirs,
    # other_team is free for anyone who proves it.
    third = new_team()
    third_token = fake_slack.install(f"xoxb-{third.lower()}", third)
    moved = await client.patch(
        f"/api/v1/inboxes/{own.json()['id']}",
        json={"settings": {"team_id": third, "bot_token": third_token}},
        headers=attacker.headers,
    )
    assert moved.status_code == 200, moved.text
    assert (await slack(client, victim, other_team, "C1", own_token)).status_code == 201


async def test_the_oauth_install_cannot_take_a_connected_workspace(client: httpx.AsyncClient) -> None:
    async def install(tenant: Tenant) -> httpx.Response:
        link = await client.get("/api/v1/integrations/slack/install", headers=tenant.headers)
        state = parse_qs(urlsplit(link.json()["authorize_url"]).query)["state"][0]
        return await client.get("/api/v1/integrations/slack/callback", params={"code": "c", "state": state})

    first, second = await signup(client), await signup(client)
    installed = await install(first)  # the fake installs workspace TINSTALL
    assert installed.status_code == 200, installed.text
    assert (await install(first)).status_code == 200  # a reinstall updates the same inbox
    refused(await install(second), 409, "channel_already_connected")
    listed = (await client.get("/api/v1/inboxes", headers=second.headers)).json()
    assert listed == []


def _messenger_body(page: str, psid: str, text_value: str) -> bytes:
    event = {
        "sender": {"id": psid},
        "recipient": {"id": page},
        "timestamp": int(time.time() * 1000),
        "message": {"mid": f"m_{uuid.uuid4().hex}", "text": text_value},
    }
    return json.dumps({"object": "page", "entry": [{"id": page, "time": 1, "messaging": [event]}]}).encode()


async def _conversations(client: httpx.AsyncClient, tenant: Tenant) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/conversations", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


async def _wait_for_conversation(client: httpx.AsyncClient, tenant: Tenant, inbox_id: str) -> None:
    for _ in range(200):
        if any(c["inbox_id"] == inbox_id for c in await _conversations(client, tenant)):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("no conversation reached the inbox")


async def test_webhooks_reach_the_connected_inbox_not_the_oldest_naming_it(
    client: httpx.AsyncClient, fake_graph: FakeGraph, system: LiveServer
) -> None:
    """An inbox naming a page without holding it (as data from before this fix can) gets nothing, however old."""
    graph = fake_graph
    victim, attacker = await signup(client), await signup(client)
    page = new_page()
    connected = await messenger(client, victim, page, graph.page_token(page))
    assert connected.status_code == 201
    decoy = await messenger(client, attacker, new_page(), graph.page_token("1"))
    assert decoy.status_code == 422  # (the attacker cannot create it through the API at all)
    engine = create_async_engine(system.env["DATABASE_URL"])
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO inboxes (id, account_id, name, channel, settings, routing, created_at) "
                "VALUES (:id, :account, 'old decoy', 'messenger', CAST(:settings AS jsonb), '{}', "
                "now() - interval '1 year')"
            ),
            {"id": uuid.uuid4(), "account": uuid.UUID(attacker.account_id), "settings": json.dumps({"page_id": page})},
        )
    await engine.dispose()
    body = _messenger_body(page, "4400001", "for the page owner")
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    answer = await client.post(
        "/webhooks/messenger",
        content=body,
        headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    await _wait_for_conversation(client, victim, connected.json()["id"])
    assert await _conversations(client, attacker) == []


async def test_slack_events_reach_the_inbox_of_their_channel(
    client: httpx.AsyncClient, fake_slack: FakeSlack, fake_graph: FakeGraph
) -> None:
    tenant = await signup(client)
    team = new_team()
    token = fake_slack.install(f"xoxb-{team.lower()}", team)
    first = await slack(client, tenant, team, "CFIRST", token)
    second = await slack(client, tenant, team, "CSECOND", token)
    assert first.status_code == 201 and second.status_code == 201
    event = {"type": "message", "channel": "CSECOND", "user": "U1", "text": "in the second", "ts": "1700000000.000100"}
    body = json.dumps(
        {"type": "event_callback", "team_id": team, "event_id": f"Ev{uuid.uuid4().hex[:10]}", "event": event}
    ).encode()
    ts = str(int(time.time()))
    signature = SignatureVerifier(SLACK_SECRET).generate_signature(timestamp=ts, body=body)
    answer = await client.post(
        "/webhooks/slack/events",
        content=body,
        headers={"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": "application/json"},
    )
    assert answer.status_code == 200 and answer.json().get("accepted") == 1, answer.text
    await _wait_for_conversation(client, tenant, second.json()["id"])
