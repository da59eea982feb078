"""Messenger end to end against a fake Graph API, with requests signed exactly as Meta signs them
(HMAC-SHA256 of the raw body with the app secret)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from switchboard_devstack.servers import StackUrls

from tests.fakes.graph import FakeGraph
from tests.helpers.api import Socket, create_agent, eventually, signup
from tests.helpers.live import LiveServer, live_server
from tests.helpers.messenger import (
    APP_SECRET,
    VERIFY_TOKEN,
    messenger_inbox,
    new_page,
    post,
    signed,
    text_event,
    webhook,
)


@pytest.fixture(scope="module")
async def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("messenger-data")


@pytest.fixture(scope="module")
async def messenger_system(stack_urls: StackUrls, fake_graph: FakeGraph, data_dir: Path) -> AsyncIterator[LiveServer]:
    async with live_server(
        stack_urls,
        GRAPH_API_URL=fake_graph.url,
        MESSENGER_APP_SECRET=APP_SECRET,
        MESSENGER_VERIFY_TOKEN=VERIFY_TOKEN,
        MESSENGER_MAX_WAIT_SECONDS="5",
        DATA_DIR=str(data_dir),
    ) as live:
        yield live


async def test_verification_handshake(messenger_system: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=messenger_system.url, timeout=30) as client:
        ok = await client.get(
            "/webhooks/messenger",
            params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
        )
        assert ok.status_code == 200 and ok.text == "1158201444"
        assert ok.headers["content-type"].startswith("text/plain")
        for params in (
            {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
            {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
            {},
        ):
            refused = await client.get("/webhooks/messenger", params=params)
            assert refused.status_code == 403 and refused.json()["error"]["code"] == "verification_failed"


async def test_forged_and_malformed_requests_change_nothing(
    messenger_system: LiveServer, fake_graph: FakeGraph
) -> None:
    page = new_page()
    async with httpx.AsyncClient(base_url=messenger_system.url, timeout=30) as client:
        tenant = await signup(client)
        await messenger_inbox(client, tenant, page, fake_graph)
        body = webhook([(page, [text_event(page, "4001", "m_forged", "forged")])])
        forged = await client.post("/webhooks/messenger", content=body, headers=signed(body, "not-the-secret"))
        assert forged.status_code == 401 and forged.json()["error"]["code"] == "invalid_signature"
        unsigned = await client.post("/webhooks/messenger", content=body)
        assert unsigned.status_code == 401
        tampered = await client.post(
            "/webhooks/messenger", content=body.replace(b"forged", b"FORGED"), headers=signed(body)
        )
        assert tampered.status_code == 401
        for bad, code in ((b"{not json", "malformed_json"), (b'{"object": "user", "entry": []}', "malformed_payload")):
            response = await post(client, bad)
            assert response.status_code == 400 and response.json()["error"]["code"] == code
        metrics = await client.get("/metrics")
        assert 'switchboard_signature_failures_total{channel="messenger"}' in metrics.text
        listed = await client.get("/api/v1/conversations", headers=tenant.headers)
        assert listed.status_code == 200 and listed.json() == []


async def test_round_trip_with_receipts_dedupe_and_rate_limits(
    messenger_system: LiveServer, fake_graph: FakeGraph, data_dir: Path
) -> None:
    page, psid = new_page(), "5551234"
    fake_graph.files["cat.png"] = b"\x89PNG fake image bytes"
    async with httpx.AsyncClient(base_url=messenger_system.url, timeout=30) as client:
        tenant = await signup(client)
        await messenger_inbox(client, tenant, page, fake_graph)
        _, agent_token = await create_agent(client, tenant)
        agent_headers = {"Authorization": f"Bearer {agent_token}"}
        agent = await Socket.open(f"{messenger_system.ws_url}/api/v1/ws?token={agent_token}")
        await agent.wait_for(lambda f: f["type"] == "session.ready")
        now = int(time.time() * 1000)
        image = {
            "sender": {"id": psid},
            "recipient": {"id": page},
            "timestamp": now + 1,
            "message": {
                "mid": "m_img_1",
                "attachments": [{"type": "image", "payload": {"url": fake_graph.file_url("cat.png")}}],
            },
        }
        echo = {
            "sender": {"id": page},
            "recipient": {"id": psid},
            "timestamp": now + 2,
            "message": {"mid": "m_echo_1", "text": "page wrote this", "is_echo": True, "app_id": 42},
        }
        standby = text_event(page, psid, "m_standby_1", "seen by another app", now + 3)
        # One request, two entries, several events: every customer message is taken, nothing else.
        body = json.dumps(
            {
                "object": "page",
                "entry": [
                    {
                        "id": page,
                        "time": now,
                        "messaging": [text_event(page, psid, "m_txt_1", "Où est ma commande ?", now)],
                    },
                    {"id": page, "time": now, "messaging": [image, echo]},
                    {"id": page, "time": now, "standby": [standby]},
                ],
            }
        ).encode()
        assert b"\\u00f9" in body  # escaped non-ASCII, as Meta sends it
        first = await post(client, body)
        assert first.status_code == 200 and first.json()["accepted"] == 2
        again = await post(client, body)  # Meta's redelivery: acknowledged, stored once
        assert again.status_code == 200 and again.json()["accepted"] == 0
        assigned = await agent.wait_for(lambda f: f["type"] == "conversation.assigned")
        conversation_id = assigned["conversation_id"]

        async def history() -> list[dict[str, Any]]:
            response = await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=agent_headers)
            return list(response.json())

        messages = await eventually(lambda: _when(history(), lambda h: len(h) >= 2))
        assert [m["text"] for m in messages] == ["Où est ma commande ?", None]
        # The image is fetched after the ack and kept under DATA_DIR/attachments.
        stored = await eventually(lambda: _when(history(), lambda h: "object" in (h[1]["attachments"] or [{}])[0]))
        obj = stored[1]["attachments"][0]["object"]
        assert (data_dir / "attachments" / obj).read_bytes() == b"\x89PNG fake image bytes"

        # The agent's reply goes out as a RESPONSE (inside 24 h), after a rate-limit error is waited out.
        fake_graph.script.append(("rate_limit", 613))
        before = len(fake_graph.sent())
        long_text = "word " * 500  # 2,500 characters: two Send API calls
        reply = await client.post(
            f"/api/v1/conversations/{conversation_id}/messages", json={"text": long_text.strip()}, headers=agent_headers
        )
        assert reply.status_code == 201, reply.text
        calls = await fake_graph.wait_calls("me/messages", before + 2)
        sent = calls[before:]
        assert [body["messaging_type"] for body, _ in sent] == ["RESPONSE", "RESPONSE"]
        assert all(body["recipient"] == {"id": psid} and fake_graph.pages[token] == page for body, token in sent)
        assert all(len(body["message"]["text"]) <= 2000 for body, _ in sent)
        assert " ".join(body["message"]["text"] for body, _ in sent).split() == long_text.split()
        await agent.wait_for(
            lambda f: (
                f["type"] == "message.delivery_updated"
                and f["message_id"] == reply.json()["id"]
                and f["status"] == "sent"
            )
        )
        # Receipts: delivery by mid, then read by watermark, reach the agent.
        receipts = [
            {
                "sender": {"id": psid},
                "recipient": {"id": page},
                "timestamp": now,
                "delivery": {"mids": ["m_out_x"], "watermark": int(time.time() * 1000) + 1000},
            },
        ]
        assert (await post(client, webhook([(page, receipts)]))).status_code == 200
        await agent.wait_for(
            lambda f: (
                f["type"] == "message.delivery_updated"
                and f["message_id"] == reply.json()["id"]
                and f["status"] == "delivered"
            )
        )
        read = {
            "sender": {"id": psid},
            "recipient": {"id": page},
            "timestamp": now,
            "read": {"watermark": int(time.time() * 1000) + 1000},
        }
        assert (await post(client, webhook([(page, [read])]))).status_code == 200
        await agent.wait_for(
            lambda f: (
                f["type"] == "message.delivery_updated"
                and f["message_id"] == reply.json()["id"]
                and f["status"] == "read"
            )
        )
        await agent.close()


async def _when(value: Any, predicate: Callable[[Any], bool]) -> Any:
    result = await value
    return result if predicate(result) else None


async def test_messaging_windows(messenger_system: LiveServer, fake_graph: FakeGraph) -> None:
    """RESPONSE inside 24 h, the HUMAN_AGENT tag up to 7 days, else a clear failure shown to the agent."""
    page = new_page()
    day_ms = 24 * 3600 * 1000
    async with httpx.AsyncClient(base_url=messenger_system.url, timeout=30) as client:
        tenant = await signup(client)
        await messenger_inbox(client, tenant, page, fake_graph)
        _, agent_token = await create_agent(client, tenant, max_conversations=10)
        agent_headers = {"Authorization": f"Bearer {agent_token}"}
        agent = await Socket.open(f"{messenger_system.ws_url}/api/v1/ws?token={agent_token}")
        await agent.wait_for(lambda f: f["type"] == "session.ready")
        now = int(time.time() * 1000)
        cases = {"7000001": now - 3 * day_ms, "7000002": now - 8 * day_ms}
        events = [text_event(page, psid, f"m_old_{psid}", f"old message {psid}", at) for psid, at in cases.items()]
        assert (await post(client, webhook([(page, events)]))).status_code == 200
        conversations: dict[str, str] = {}
        for _ in cases:
            frame = await agent.wait_for(
                lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] not in conversations.values()
            )
            text = frame["messages"][0]["text"]
            conversations[text.rsplit(" ", 1)[1]] = frame["conversation_id"]
        before = len(fake_graph.sent())
        tagged = await client.post(
            f"/api/v1/conversations/{conversations['7000001']}/messages",
            json={"text": "Sorry for the wait"},
            headers=agent_headers,
        )
        calls = await fake_graph.wait_calls("me/messages", before + 1)
        assert calls[before][0]["messaging_type"] == "MESSAGE_TAG" and calls[before][0]["tag"] == "HUMAN_AGENT"
        await agent.wait_for(lambda f: f.get("message_id") == tagged.json()["id"] and f["status"] == "sent")
        late = await client.post(
            f"/api/v1/conversations/{conversations['7000002']}/messages", json={"text": "Hello?"}, headers=agent_headers
        )
        failed = await agent.wait_for(
            lambda f: f.get("message_id") == late.json()["id"] and f["type"] == "message.delivery_updated"
        )
        assert failed["status"] == "failed" and failed["reason"] == "outside_messaging_window"
        # Graph's own window error (code 10 / 2018278) is reported the same way.
        fake_graph.script.append(("window", None))
        refused = await client.post(
            f"/api/v1/conversations/{conversations['7000001']}/messages",
            json={"text": "Still there?"},
            headers=agent_headers,
        )
        failed = await agent.wait_for(
            lambda f: f.get("message_id") == refused.json()["id"] and f["type"] == "message.delivery_updated"
        )
        assert failed["status"] == "failed" and failed["reason"] == "outside_messaging_window"
        await agent.close()
