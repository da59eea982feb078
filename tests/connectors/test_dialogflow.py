"""Bot first, then a human: Dialogflow against fake Google endpoints (OAuth token + ES v2 detectIntent), on the
web widget and on Messenger, plus the fulfillment webhook."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from switchboard_devstack.servers import StackUrls

from tests.fakes.dialogflow import FakeGoogle, query_result
from tests.fakes.graph import FakeGraph
from tests.helpers.api import Socket, Tenant, create_agent, create_web_inbox, signup, visitor_session
from tests.helpers.live import LiveServer, live_server
from tests.helpers.messenger import APP_SECRET, messenger_inbox, new_page, post, text_event, webhook
from tests.helpers.redis_keys import unregistered_keys

WEBHOOK_USER, WEBHOOK_PASSWORD = "dialogflow", "fulfil-me-0123456789"
PROJECT = "acme-support-bot"


@pytest.fixture(scope="module")
async def fake_google() -> AsyncIterator[FakeGoogle]:
    fake = FakeGoogle()
    fake.intents = {
        "hi": query_result("hi", "greeting", "Hello! How can I help?", 0.95),
        "where is my order": query_result("where is my order", "order.status", "It ships tomorrow.", 0.9),
        "I want a human": query_result("I want a human", "human", "Transferring you to an agent.", 0.97),
        "status please": query_result("status please", "status", None, 0.9),
    }
    fake.revoked = {"1//revoked-refresh-token"}
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture(scope="module")
async def bot_system(
    stack_urls: StackUrls, fake_google: FakeGoogle, fake_graph: FakeGraph
) -> AsyncIterator[LiveServer]:
    async with live_server(
        stack_urls,
        DIALOGFLOW_API_URL=fake_google.url,
        GOOGLE_TOKEN_URL=fake_google.token_url,
        DIALOGFLOW_WEBHOOK_USER=WEBHOOK_USER,
        DIALOGFLOW_WEBHOOK_PASSWORD=WEBHOOK_PASSWORD,
        GRAPH_API_URL=fake_graph.url,
        MESSENGER_APP_SECRET=APP_SECRET,
        MESSENGER_MAX_WAIT_SECONDS="5",
    ) as live:
        yield live


def bot_config(refresh_token: str = "1//good-refresh-token", **extra: Any) -> dict[str, Any]:  # noqa: S107
    return {
        "provider": "dialogflow",
        "project_id": PROJECT,
        "language_code": "en",
        "client_id": "1234.apps.googleusercontent.com",
        "client_secret": "GOCSPX-client-secret",
        "refresh_token": refresh_token,
        "handoff_intents": ["human"],
        "confidence_threshold": 0.5,
        "handoff_routing": {"preferred_skills": ["orders"]},
        **extra,
    }


async def put_bot(client: httpx.AsyncClient, tenant: Tenant, inbox_id: str, **config: Any) -> dict[str, Any]:
    response = await client.put(f"/api/v1/inboxes/{inbox_id}/bot", json=bot_config(**config), headers=tenant.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def basic(user: str = WEBHOOK_USER, password: str = WEBHOOK_PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def test_bot_configuration_api(bot_system: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=bot_system.url, timeout=30) as client:
        tenant = await signup(client)
        inbox = await create_web_inbox(client, tenant)
        _, agent_token = await create_agent(client, tenant)
        as_agent = await client.put(
            f"/api/v1/inboxes/{inbox['id']}/bot", json=bot_config(), headers={"Authorization": f"Bearer {agent_token}"}
        )
        assert as_agent.status_code == 403
        invalid = await client.put(
            f"/api/v1/inboxes/{inbox['id']}/bot",
            json={**bot_config(), "confidence_threshold": 2},
            headers=tenant.headers,
        )
        assert invalid.status_code == 422
        saved = await put_bot(client, tenant, inbox["id"])
        got = await client.get(f"/api/v1/inboxes/{inbox['id']}/bot", headers=tenant.headers)
        for body in (saved, got.json()):
            assert body["project_id"] == PROJECT and body["handoff_intents"] == ["human"]
            assert body["credentials_stored"] is True
            text = json.dumps(body)
            assert "GOCSPX" not in text and "refresh-token" not in text and "apps.googleusercontent" not in text
        other = await signup(client)
        assert (await client.get(f"/api/v1/inboxes/{inbox['id']}/bot", headers=other.headers)).status_code == 404
        assert (await client.delete(f"/api/v1/inboxes/{inbox['id']}/bot", headers=tenant.headers)).status_code == 204
        assert (await client.get(f"/api/v1/inboxes/{inbox['id']}/bot", headers=tenant.headers)).status_code == 404


async def test_widget_visitor_talks_to_the_bot_then_a_human(bot_system: LiveServer, fake_google: FakeGoogle) -> None:
    async with httpx.AsyncClient(base_url=bot_system.url, timeout=30) as client:
        tenant = await signup(client)
        inbox = await create_web_inbox(client, tenant)
        await put_bot(client, tenant, inbox["id"])
        agent_id, agent_token = await create_agent(client, tenant)
        agent = await Socket.open(f"{bot_system.ws_url}/api/v1/ws?token={agent_token}")
        await agent.wait_for(lambda f: f["type"] == "session.ready")
        visitor = await visitor_session(client, inbox["widget_token"])
        visitor_socket = await Socket.open(f"{bot_system.ws_url}/api/v1/widget/ws?token={visitor['visitor_token']}")
        await visitor_socket.wait_for(lambda f: f["type"] == "session.ready")
        headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}

        sent = await client.post("/api/v1/widget/messages", json={"text": "hi"}, headers=headers)
        conversation_id = sent.json()["conversation_id"]
        bot_reply = await visitor_socket.wait_for(
            lambda f: f["type"] == "message.created" and f["message"]["sender_type"] == "bot"
        )
        assert bot_reply["message"]["text"] == "Hello! How can I help?"
        conversation = await client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers)
        assert conversation.json()["status"] == "bot" and conversation.json().get("assignee_id") is None
        # The bot's session is our conversation id; the token came from the refresh token.
        assert fake_google.detect_requests[-1][:2] == (PROJECT, conversation_id)
        assert fake_google.token_requests[-1]["refresh_token"] == "1//good-refresh-token"

        await client.post("/api/v1/widget/messages", json={"text": "where is my order"}, headers=headers)
        await visitor_socket.wait_for(
            lambda f: f["type"] == "message.created" and f["message"]["text"] == "It ships tomorrow."
        )
        await client.post("/api/v1/widget/messages", json={"text": "I want a human"}, headers=headers)
        assigned = await agent.wait_for(
            lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == conversation_id
        )
        assert assigned["agent_id"] == agent_id
        assert [(m["sender_type"], m["text"]) for m in assigned["messages"]] == [
            ("contact", "hi"),
            ("bot", "Hello! How can I help?"),
            ("contact", "where is my order"),
            ("bot", "It ships tomorrow."),
            ("contact", "I want a human"),
            ("bot", "Transferring you to an agent."),
        ]
        # The access token was cached: one token request served the whole conversation.
        assert sum(1 for r in fake_google.token_requests if r["refresh_token"] == "1//good-refresh-token") == 1
        # With a human now, customer messages no longer go to the bot.
        asked = len(fake_google.detect_requests)
        await client.post("/api/v1/widget/messages", json={"text": "hi"}, headers=headers)
        await agent.wait_for(lambda f: f["type"] == "message.created" and f["message"]["text"] == "hi")
        assert len(fake_google.detect_requests) == asked
        await agent.close()
        await visitor_socket.close()


async def test_messenger_bot_replies_then_low_confidence_hands_off(
    bot_system: LiveServer, fake_graph: FakeGraph
) -> None:
    page, psid = new_page(), "8800001"
    async with httpx.AsyncClient(base_url=bot_system.url, timeout=30) as client:
        tenant = await signup(client)
        # The page also uses Meta's Page Inbox: on handoff the thread is passed to it (handover protocol).
        inbox = await messenger_inbox(client, tenant, page, fake_graph, handover_target_app_id="263902037430900")
        await put_bot(client, tenant, inbox["id"])
        _, agent_token = await create_agent(client, tenant)
        agent = await Socket.open(f"{bot_system.ws_url}/api/v1/ws?token={agent_token}")
        await agent.wait_for(lambda f: f["type"] == "session.ready")
        before = len(fake_graph.sent())
        assert (await post(client, webhook([(page, [text_event(page, psid, "m_b1", "hi")])]))).status_code == 200
        calls = await fake_graph.wait_calls("me/messages", before + 1)
        assert calls[before][0] == {
            "recipient": {"id": psid},
            "message": {"text": "Hello! How can I help?"},
            "messaging_type": "RESPONSE",
        }
        # Two turns the bot does not understand (fallback, confidence 0.3 < 0.5) hand off to a human.
        for n, text in enumerate(("blorp", "zzzt")):
            event = text_event(page, psid, f"m_b{n + 2}", text, int(time.time() * 1000) + n)
            assert (await post(client, webhook([(page, [event])]))).status_code == 200
            if n == 0:  # the bot answers the first before the customer writes again
                await fake_graph.wait_calls("me/messages", before + 2)
        assigned = await agent.wait_for(lambda f: f["type"] == "conversation.assigned")
        passed = await fake_graph.wait_calls("me/pass_thread_control", 1)
        assert passed[-1][0]["recipient"] == {"id": psid} and passed[-1][0]["target_app_id"] == "263902037430900"
        texts = [m["text"] for m in assigned["messages"]]
        assert texts[:2] == ["hi", "Hello! How can I help?"] and texts[-2:] == [
            "zzzt",
            "Sorry, could you say that again?",
        ]
        await agent.close()


async def test_bot_failure_hands_off(bot_system: LiveServer, fake_google: FakeGoogle) -> None:
    async with httpx.AsyncClient(base_url=bot_system.url, timeout=30) as client:
        tenant = await signup(client)
        inbox = await create_web_inbox(client, tenant)
        await put_bot(client, tenant, inbox["id"], refresh_token="1//revoked-refresh-token")
        _, agent_token = await create_agent(client, tenant)
        agent = await Socket.open(f"{bot_system.ws_url}/api/v1/ws?token={agent_token}")
        await agent.wait_for(lambda f: f["type"] == "session.ready")
        visitor = await visitor_session(client, inbox["widget_token"])
        headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
        sent = await client.post("/api/v1/widget/messages", json={"text": "hi"}, headers=headers)
        assigned = await agent.wait_for(
            lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == sent.json()["conversation_id"]
        )
        assert await agent.texts_for(assigned["conversation_id"], 1) == ["hi"]
        bot = await client.get(f"/api/v1/inboxes/{inbox['id']}/bot", headers=tenant.headers)
        assert bot.json()["broken_reason"] == "invalid_grant"
        # A broken bot no longer takes new conversations: they go straight to humans.
        other = await visitor_session(client, inbox["widget_token"])
        other_headers = {"Authorization": f"Bearer {other['visitor_token']}"}
        second = await client.post("/api/v1/widget/messages", json={"text": "hello"}, headers=other_headers)
        conversation = await client.get(
            f"/api/v1/conversations/{second.json()['conversation_id']}", headers=tenant.headers
        )
        assert conversation.json()["status"] == "open"
        # A 5xx from Dialogflow hands off too.
        inbox2 = await create_web_inbox(client, tenant)
        await put_bot(client, tenant, inbox2["id"])
        visitor3 = await visitor_session(client, inbox2["widget_token"])
        conversation_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "unused"))
        headers3 = {"Authorization": f"Bearer {visitor3['visitor_token']}"}
        first = await client.post("/api/v1/widget/messages", json={"text": "hi"}, headers=headers3)
        conversation_id = first.json()["conversation_id"]
        fake_google.failing_sessions.add(conversation_id)
        await client.post("/api/v1/widget/messages", json={"text": "where is my order"}, headers=headers3)
        await agent.wait_for(lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == conversation_id)
        await agent.close()


async def test_fulfillment_webhook(bot_system: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=bot_system.url, timeout=30) as client:
        tenant = await signup(client)
        inbox = await create_web_inbox(client, tenant)
        await put_bot(client, tenant, inbox["id"])
        visitor = await visitor_session(client, inbox["widget_token"])
        headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
        sent = await client.post("/api/v1/widget/messages", json={"text": "status please"}, headers=headers)
        conversation_id = sent.json()["conversation_id"]

        def es_request(action: str, project: str = PROJECT) -> dict[str, Any]:
            return {
                "responseId": "resp-1",
                "session": f"projects/{project}/agent/sessions/{conversation_id}",
                "queryResult": {
                    "queryText": "status please",
                    "action": action,
                    "parameters": {},
                    "intent": {"name": "projects/x/agent/intents/1", "displayName": "status"},
                    "intentDetectionConfidence": 0.9,
                    "languageCode": "en",
                },
                "originalDetectIntentRequest": {"source": "switchboard", "payload": {}},
            }

        for auth in ({}, basic(password="wrong"), basic(user="other")):
            refused = await client.post("/webhooks/dialogflow", json=es_request("conversation_status"), headers=auth)
            assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
        malformed = await client.post("/webhooks/dialogflow", json={"session": "nope"}, headers=basic())
        assert malformed.status_code == 400
        status = await client.post("/webhooks/dialogflow", json=es_request("conversation_status"), headers=basic())
        assert status.status_code == 200
        body = status.json()
        assert set(body) <= {"fulfillmentText", "fulfillmentMessages", "source", "payload", "outputContexts"}
        assert body["fulfillmentText"] == "Status: bot." and body["payload"]["switchboard"]["status"] == "bot"
        # Another tenant's project gets nothing about this conversation.
        foreign = await client.post(
            "/webhooks/dialogflow", json=es_request("conversation_status", "other-proj"), headers=basic()
        )
        assert foreign.json() == {}
        # CX: the handoff tag hands the conversation to humans; it is then queued (no agent online).
        cx = {
            "detectIntentResponseId": "d-1",
            "sessionInfo": {"session": f"projects/{PROJECT}/locations/global/agents/a1/sessions/{conversation_id}"},
            "fulfillmentInfo": {"tag": "handoff"},
            "languageCode": "en",
            "text": "agent",
        }
        handed = await client.post("/webhooks/dialogflow", json=cx, headers=basic())
        assert handed.json()["fulfillmentResponse"]["messages"] == [{"text": {"text": ["Connecting you to an agent."]}}]
        conversation = await client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers)
        assert conversation.json()["status"] == "open"
        queued = await client.post(
            "/webhooks/dialogflow", json={**cx, "fulfillmentInfo": {"tag": "conversation_status"}}, headers=basic()
        )
        assert queued.json()["sessionInfo"]["parameters"] == {"status": "open", "queue_position": 1}


async def test_fulfillment_is_bound_to_the_inbox_that_owns_the_session(bot_system: LiveServer) -> None:
    """Project ids are declared by tenants, and the installation's webhook credentials are shared by all of them:
    neither may let one tenant's Dialogflow agent read or hand off another tenant's conversation."""
    async with httpx.AsyncClient(base_url=bot_system.url, timeout=30) as client:
        victim, attacker = await signup(client), await signup(client)
        victim_inbox, attacker_inbox = await create_web_inbox(client, victim), await create_web_inbox(client, attacker)
        own_password = "victim fulfillment password 1"
        configured = await put_bot(client, victim, victim_inbox["id"], fulfillment_password=own_password)
        assert configured["fulfillment_url"] == f"/webhooks/dialogflow/{victim_inbox['id']}"
        assert own_password not in json.dumps(configured)
        await put_bot(client, attacker, attacker_inbox["id"])  # the same self-declared project id
        visitor = await visitor_session(client, victim_inbox["widget_token"])
        headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
        sent = await client.post("/api/v1/widget/messages", json={"text": "status please"}, headers=headers)
        session = f"projects/{PROJECT}/agent/sessions/{sent.json()['conversation_id']}"
        status = {"session": session, "queryResult": {"action": "conversation_status"}}
        handoff = {"session": session, "queryResult": {"action": "handoff"}}

        # The shared URL with the installation's credentials: the victim's inbox has its own password, so nothing.
        for body in (status, handoff):
            assert (await client.post("/webhooks/dialogflow", json=body, headers=basic())).json() == {}
        # The attacker's own inbox URL: bound to that inbox, the victim's session is not found.
        attacker_url = f"/webhooks/dialogflow/{attacker_inbox['id']}"
        for body in (status, handoff):
            assert (await client.post(attacker_url, json=body, headers=basic())).json() == {}
        # The victim's URL: only with the victim's own password.
        victim_url = f"/webhooks/dialogflow/{victim_inbox['id']}"
        for auth in (basic(), basic(user=victim_inbox["id"], password="not the password at all")):
            assert (await client.post(victim_url, json=status, headers=auth)).status_code == 401
        answered = await client.post(
            victim_url, json=status, headers=basic(user=victim_inbox["id"], password=own_password)
        )
        assert answered.status_code == 200 and answered.json()["payload"]["switchboard"]["status"] == "bot"
        conversation = await client.get(
            f"/api/v1/conversations/{sent.json()['conversation_id']}", headers=victim.headers
        )
        assert conversation.json()["status"] == "bot", "no call but the victim's own handed the conversation off"


async def test_every_key_left_in_redis_is_registered(bot_system: LiveServer, stack_urls: StackUrls) -> None:
    """What this module's run wrote to Redis was named by the key registry (tests/helpers/redis_keys.py)."""
    assert await unregistered_keys(stack_urls.redis_url, bot_system.env["REDIS_NAMESPACE"]) == []
