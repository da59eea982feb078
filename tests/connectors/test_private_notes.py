"""A private note never leaves toward the customer, on any channel: not through Slack (customer channel or the
agents' mirror), Messenger, the API channel's callback or Dialogflow, and not in account webhooks unless a
subscription asks for ``note.created``.

Each test writes a note, then something that does leave by the same path (a reply, a customer message); once
that has arrived at the fake platform, the note would have arrived before it (one conversation, one partition,
in order): it must not be there."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from switchboard_devstack.servers import StackUrls

from tests.fakes.dialogflow import FakeGoogle, query_result
from tests.fakes.graph import FakeGraph
from tests.fakes.receivers import Receiver
from tests.fakes.slack import FakeSlack
from tests.helpers.api import Socket, Tenant, create_agent, create_web_inbox, signup, visitor_session
from tests.helpers.live import LiveServer, live_server
from tests.helpers.messenger import APP_SECRET, messenger_inbox, new_page, post, text_event, webhook
from tests.helpers.slack import slack_inbox

SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOTE = "internal: customer owes 40 EUR, do not refund"


@pytest.fixture(scope="module")
async def fakes() -> AsyncIterator[tuple[FakeSlack, FakeGraph, FakeGoogle]]:
    slack, graph, google = FakeSlack(), FakeGraph(), FakeGoogle()
    google.intents = {"hi": query_result("hi", "greeting", "Hello! How can I help?", 0.95)}
    for fake in (slack, graph, google):
        await fake.start()
    yield slack, graph, google
    for fake in (slack, graph, google):
        await fake.stop()


@pytest.fixture(scope="module")
async def system(stack_urls: StackUrls, fakes: tuple[FakeSlack, FakeGraph, FakeGoogle]) -> AsyncIterator[LiveServer]:
    slack, graph, google = fakes
    async with live_server(
        stack_urls,
        OUTBOUND_ALLOW_PRIVATE="true",
        SLACK_API_URL=slack.url,
        SLACK_SIGNING_SECRET=SLACK_SECRET,
        SLACK_MAX_WAIT_SECONDS="5",
        GRAPH_API_URL=graph.url,
        MESSENGER_APP_SECRET=APP_SECRET,
        MESSENGER_MAX_WAIT_SECONDS="5",
        DIALOGFLOW_API_URL=google.url,
        GOOGLE_TOKEN_URL=google.token_url,
        WEBHOOK_RETRY_BASE_SECONDS="0.05",
        WEBHOOK_RETRY_MAX_SECONDS="0.1",
    ) as live:
        yield live


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


async def _assigned(socket: Socket) -> str:
    frame = await socket.wait_for(lambda f: f["type"] == "conversation.assigned")
    return str(frame["conversation_id"])


async def _note_then_reply(client: httpx.AsyncClient, token: str, conversation_id: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    note = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": NOTE, "private": True}, headers=headers
    )
    assert note.status_code == 201, note.text
    assert note.json()["private"] is True
    reply = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": "Checking now"}, headers=headers
    )
    assert reply.status_code == 201, reply.text


async def _online_agent(client: httpx.AsyncClient, server: LiveServer, tenant: Tenant) -> tuple[str, Socket]:
    _, token = await create_agent(client, tenant)
    socket = await Socket.open(f"{server.ws_url}/api/v1/ws?token={token}")
    await socket.wait_for(lambda f: f["type"] == "session.ready")
    return token, socket


def _slack_envelope(team: str, event: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"Ev{time.time_ns()}",
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": team}],
        }
    ).encode()


def _slack_signed(body: bytes) -> dict[str, str]:
    from slack_sdk.signature import SignatureVerifier

    ts = str(int(time.time()))
    signature = SignatureVerifier(SLACK_SECRET).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": "application/json"}


async def test_slack_customer_channel_gets_the_reply_not_the_note(
    system: LiveServer, fakes: tuple[FakeSlack, FakeGraph, FakeGoogle]
) -> None:
    slack = fakes[0]
    team = f"TN{time.time_ns() % 10**8}"
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        await slack_inbox(client, tenant, team, slack, channel="CNOTES")
        token, agent = await _online_agent(client, system, tenant)
        event = {
            "type": "message",
            "channel": "CNOTES",
            "channel_type": "channel",
            "user": "UCUST",
            "text": "Refund please",
            "ts": "1700000100.000100",
        }
        body = _slack_envelope(team, event)
        assert (
            await client.post("/webhooks/slack/events", content=body, headers=_slack_signed(body))
        ).status_code == 200
        conversation_id = await _assigned(agent)
        before = len(slack.posted())
        await _note_then_reply(client, token, conversation_id)
        posts = await slack.wait_posts(before + 1)
        assert [p["text"] for p in posts[before:]] == ["Checking now"]
        assert all(NOTE not in json.dumps(call) for call in slack.calls)
        await agent.close()


async def test_slack_mirror_of_a_web_inbox_never_shows_the_note(
    system: LiveServer, fakes: tuple[FakeSlack, FakeGraph, FakeGoogle]
) -> None:
    slack = fakes[0]
    team = f"TM{time.time_ns() % 10**8}"
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        mirror = await slack_inbox(client, tenant, team, slack, channel="CAGENTSN")
        web = await create_web_inbox(client, tenant)
        linked = await client.put(
            f"/api/v1/inboxes/{web['id']}/slack-mirror", headers=tenant.headers, json={"slack_inbox_id": mirror["id"]}
        )
        assert linked.status_code == 200, linked.text
        token, agent = await _online_agent(client, system, tenant)
        visitor = await visitor_session(client, web["widget_token"], name="Nora")
        headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
        before = len(slack.posted())
        await client.post("/api/v1/widget/messages", json={"text": "First question"}, headers=headers)
        conversation_id = await _assigned(agent)
        await slack.wait_posts(before + 2)  # the thread header and the first message
        note = await client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"text": NOTE, "private": True},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert note.status_code == 201, note.text
        await client.post("/api/v1/widget/messages", json={"text": "Second question"}, headers=headers)
        posts = await slack.wait_posts(before + 3)
        assert [p["text"] for p in posts[before + 1 :]] == ["First question", "Second question"]
        assert all(NOTE not in json.dumps(call) for call in slack.calls)
        await agent.close()


async def test_messenger_gets_the_reply_not_the_note(
    system: LiveServer, fakes: tuple[FakeSlack, FakeGraph, FakeGoogle]
) -> None:
    graph = fakes[1]
    page, psid = new_page(), "7770001"
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        await messenger_inbox(client, tenant, page, graph)
        token, agent = await _online_agent(client, system, tenant)
        assert (
            await post(client, webhook([(page, [text_event(page, psid, "m_n1", "Hello page")])]))
        ).status_code == 200
        conversation_id = await _assigned(agent)
        before = len(graph.sent())
        await _note_then_reply(client, token, conversation_id)
        sent = await graph.wait_calls("me/messages", before + 1)
        assert [body["message"]["text"] for body, _ in sent[before:]] == ["Checking now"]
        assert all(NOTE not in json.dumps(body) for _path, body, _token in graph.calls)
        await agent.close()


async def test_api_channel_callback_gets_the_reply_not_the_note(system: LiveServer, receiver: Receiver) -> None:
    from switchboard_common.infra import signing

    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        created = await client.post(
            "/api/v1/inboxes",
            headers=tenant.headers,
            json={"name": "Back end", "channel": "api", "settings": {"callback_url": receiver.url + "/callback"}},
        )
        assert created.status_code == 201, created.text
        inbox = created.json()
        token, agent = await _online_agent(client, system, tenant)
        body = json.dumps(
            {"contact": {"external_id": "c-notes"}, "message": {"id": "n-1", "text": "Where is it?"}}
        ).encode()
        accepted = await client.post(
            f"/webhooks/api/{inbox['id']}", content=body, headers=signing.signed_headers(inbox["secret"], body)
        )
        assert accepted.status_code == 202, accepted.text
        conversation_id = await _assigned(agent)
        await _note_then_reply(client, token, conversation_id)
        [call] = await receiver.wait_for(1, "/callback")
        assert call.json()["message"]["text"] == "Checking now"
        assert all(NOTE not in r.body.decode() for r in receiver.received)
        await agent.close()


async def test_dialogflow_never_reads_a_note(
    system: LiveServer, fakes: tuple[FakeSlack, FakeGraph, FakeGoogle]
) -> None:
    google = fakes[2]
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        inbox = await create_web_inbox(client, tenant)
        bot = await client.put(
            f"/api/v1/inboxes/{inbox['id']}/bot",
            headers=tenant.headers,
            json={
                "provider": "dialogflow",
                "project_id": "notes-bot",
                "language_code": "en",
                "client_id": "1234.apps.googleusercontent.com",
                "client_secret": "GOCSPX-client-secret",
                "refresh_token": "1//good-refresh-token",
                "handoff_intents": ["human"],
                "confidence_threshold": 0.5,
            },
        )
        assert bot.status_code == 200, bot.text
        visitor = await visitor_session(client, inbox["widget_token"])
        headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
        widget = await Socket.open(f"{system.ws_url}/api/v1/widget/ws?token={visitor['visitor_token']}")
        await widget.wait_for(lambda f: f["type"] == "session.ready")
        sent = await client.post("/api/v1/widget/messages", json={"text": "hi"}, headers=headers)
        conversation_id = sent.json()["conversation_id"]
        await widget.wait_for(lambda f: f["type"] == "message.created" and f["message"]["sender_type"] == "bot")
        # While the bot has the conversation, a supervisor notes something: the bot must not answer it.
        note = await client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"text": NOTE, "private": True},
            headers=tenant.headers,
        )
        assert note.status_code == 201, note.text
        await client.post("/api/v1/widget/messages", json={"text": "hi"}, headers=headers)
        await widget.wait_for(
            lambda f: (
                f["type"] == "message.created"
                and f["message"]["sender_type"] == "bot"
                and sum(1 for g in widget.frames if g.get("type") == "message.created") >= 2
            )
        )
        asked = [
            body["queryInput"]["text"]["text"] for project, _s, body in google.detect_requests if project == "notes-bot"
        ]
        assert asked == ["hi", "hi"]
        assert all(NOTE not in json.dumps(frame) for frame in widget.frames)
        await widget.close()


async def test_account_webhooks_carry_notes_only_when_asked(system: LiveServer, receiver: Receiver) -> None:
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        plain = await client.post(
            "/api/v1/webhooks",
            headers=tenant.headers,
            json={"url": receiver.url + "/plain", "events": ["message.created"]},
        )
        notes = await client.post(
            "/api/v1/webhooks",
            headers=tenant.headers,
            json={"url": receiver.url + "/notes", "events": ["note.created"]},
        )
        assert plain.status_code == 201 and notes.status_code == 201, (plain.text, notes.text)
        inbox = await create_web_inbox(client, tenant)
        token, agent = await _online_agent(client, system, tenant)
        visitor = await visitor_session(client, inbox["widget_token"])
        await client.post(
            "/api/v1/widget/messages",
            json={"text": "hello"},
            headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
        )
        conversation_id = await _assigned(agent)
        await _note_then_reply(client, token, conversation_id)
        [note_call] = await receiver.wait_for(1, "/notes")
        delivered = note_call.json()
        assert delivered["event"] == "note.created" and delivered["conversation_id"] == conversation_id
        assert delivered["data"]["note"]["text"] == NOTE
        # The plain subscription gets the customer's message and the reply, never the note.
        plain_calls = await receiver.wait_for(2, "/plain")
        texts = [c.json()["data"]["message"]["text"] for c in plain_calls]
        assert texts == ["hello", "Checking now"]
        assert all(NOTE not in r.body.decode() for r in receiver.received if r.path == "/plain")
        await agent.close()
