"""Satisfaction surveys in each channel against the fake platforms: Messenger quick replies, Slack buttons
(block actions on the interactivity URL), and the API channel (a signed callback, answered back signed)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier
from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.domain.csat.models import CsatSurvey
from switchboard_common.infra import signing
from switchboard_devstack.servers import StackUrls

from tests.fakes.graph import FakeGraph
from tests.fakes.receivers import Receiver
from tests.fakes.slack import FakeSlack
from tests.helpers.api import Tenant, eventually, signup
from tests.helpers.live import LiveServer, live_server
from tests.helpers.messenger import APP_SECRET, VERIFY_TOKEN, messenger_inbox, new_page, post, text_event, webhook
from tests.helpers.slack import new_team, slack_inbox

SIGNING_SECRET = "5e1f0c2d9a8b7c6d5e4f3a2b1c0d9e8f"


@pytest.fixture(scope="module")
async def system(stack_urls: StackUrls, fake_slack: FakeSlack, fake_graph: FakeGraph) -> AsyncIterator[LiveServer]:
    graph, slack = fake_graph, fake_slack
    async with live_server(
        stack_urls,
        GRAPH_API_URL=graph.url,
        MESSENGER_APP_SECRET=APP_SECRET,
        MESSENGER_VERIFY_TOKEN=VERIFY_TOKEN,
        SLACK_API_URL=slack.url,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_MAX_WAIT_SECONDS="5",
        MESSENGER_MAX_WAIT_SECONDS="5",
        OUTBOUND_ALLOW_PRIVATE="true",
        WEBHOOK_RETRY_BASE_SECONDS="0.05",
        WEBHOOK_RETRY_MAX_SECONDS="0.2",
    ) as live:
        yield live


async def _surveys_on(client: httpx.AsyncClient, tenant: Tenant, inbox_id: str) -> None:
    response = await client.put(
        f"/api/v1/inboxes/{inbox_id}/csat", headers=tenant.headers, json={"enabled": True, "language": "hu"}
    )
    assert response.status_code == 200, response.text


async def _first_conversation(client: httpx.AsyncClient, tenant: Tenant) -> str:
    async def found() -> str | None:
        listed = (await client.get("/api/v1/conversations", headers=tenant.headers)).json()
        return listed[0]["id"] if listed else None

    return str(await eventually(found))


async def _resolve(client: httpx.AsyncClient, tenant: Tenant, conversation_id: str) -> None:
    resolved = await client.post(f"/api/v1/conversations/{conversation_id}/resolve", headers=tenant.headers)
    assert resolved.status_code == 200, resolved.text


async def _rated(client: httpx.AsyncClient, tenant: Tenant, conversation_id: str, rating: int) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        body = (await client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers)).json()
        return body if (body.get("csat") or {}).get("rating") == rating else None

    return dict(await eventually(check))


async def test_messenger_quick_replies(system: LiveServer, fake_slack: FakeSlack, fake_graph: FakeGraph) -> None:
    graph = fake_graph
    page, psid = new_page(), "7001"
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        inbox = await messenger_inbox(client, tenant, page, graph)
        await _surveys_on(client, tenant, inbox["id"])
        body = webhook([(page, [text_event(page, psid, "m_csat_1", "help")])])
        assert (await post(client, body)).status_code == 200
        conversation_id = await _first_conversation(client, tenant)
        await _resolve(client, tenant, conversation_id)

        def survey() -> dict[str, Any] | None:
            for sent, _token in graph.sent():
                if sent["recipient"]["id"] == psid and sent["message"].get("quick_replies"):
                    return sent
            return None

        async def asked() -> dict[str, Any] | None:
            return survey()

        sent = await eventually(asked)
        assert sent["messaging_type"] == "RESPONSE" and sent["message"]["text"].startswith("Hogyan")
        replies = sent["message"]["quick_replies"]
        assert [r["payload"] for r in replies] == [f"CSAT:{conversation_id}:{n}" for n in range(1, 6)]
        tap = text_event(page, psid, "m_csat_tap", replies[4]["title"])
        tap["message"]["quick_reply"] = {"payload": replies[4]["payload"]}
        tapped = webhook([(page, [tap])])
        assert (await post(client, tapped)).status_code == 200
        assert (await post(client, tapped)).status_code == 200  # redelivered: the same answer
        rated = await _rated(client, tenant, conversation_id, 5)
        assert rated["status"] == "resolved"
        listed = (await client.get("/api/v1/conversations", headers=tenant.headers)).json()
        assert [c["id"] for c in listed] == [conversation_id]  # the tap opened no new conversation


def _slack_signed(body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body),
        "Content-Type": "application/x-www-form-urlencoded",
    }


async def test_slack_buttons(system: LiveServer, fake_slack: FakeSlack, fake_graph: FakeGraph) -> None:
    slack = fake_slack
    team = new_team()
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        created = await slack_inbox(client, tenant, team, slack)
        await _surveys_on(client, tenant, created["id"])
        message = {
            "type": "message",
            "channel": "CSUP",
            "channel_type": "channel",
            "user": "UCUST",
            "text": "My invoice is wrong",
            "ts": "1700000000.000100",
        }
        envelope = json.dumps(
            {
                "team_id": team,
                "api_app_id": "A1",
                "type": "event_callback",
                "event_id": "EvCSAT1",
                "event_time": int(time.time()),
                "event": message,
            }
        ).encode()
        headers = {**_slack_signed(envelope), "Content-Type": "application/json"}
        assert (await client.post("/webhooks/slack/events", content=envelope, headers=headers)).status_code == 200
        conversation_id = await _first_conversation(client, tenant)
        await _resolve(client, tenant, conversation_id)

        async def asked() -> dict[str, Any] | None:
            return next((p for p in slack.posted() if p.get("blocks")), None)

        posted = await eventually(asked)
        assert posted["channel"] == "CSUP" and posted["thread_ts"] == "1700000000.000100"
        buttons = posted["blocks"][1]["elements"]
        assert [b["value"] for b in buttons] == [f"CSAT:{conversation_id}:{n}" for n in range(1, 6)]

        def interaction(user: str, value: str) -> bytes:
            payload = {
                "type": "block_actions",
                "team": {"id": team, "domain": "acme"},
                "user": {"id": user, "username": "cust", "team_id": team},
                "api_app_id": "A1",
                "container": {"type": "message", "message_ts": "1800000000.000001", "channel_id": "CSUP"},
                "channel": {"id": "CSUP", "name": "support"},
                "trigger_id": "13345224609.738474920.8088930838d88f008e0",
                "actions": [
                    {
                        "type": "button",
                        "action_id": "csat_3",
                        "block_id": "csat",
                        "value": value,
                        "action_ts": str(time.time()),
                    }
                ],
            }
            return urlencode({"payload": json.dumps(payload)}).encode()

        # Someone else in the channel cannot rate the customer's conversation.
        intruder = interaction("UOTHER", buttons[0]["value"])
        assert (
            await client.post("/webhooks/slack/interactivity", content=intruder, headers=_slack_signed(intruder))
        ).status_code == 200
        forged = interaction("UCUST", buttons[2]["value"])
        refused = await client.post(
            "/webhooks/slack/interactivity",
            content=forged,
            headers={**_slack_signed(forged), "X-Slack-Signature": "v0=00"},
        )
        assert refused.status_code == 401
        accepted = await client.post("/webhooks/slack/interactivity", content=forged, headers=_slack_signed(forged))
        assert accepted.status_code == 200 and accepted.json()["accepted"] == 1
        await _rated(client, tenant, conversation_id, 3)
        res = system.resources("connectors")
        async with cross_tenant_session(res.sessionmaker) as session:
            stored = await session.get(CsatSurvey, uuid.UUID(conversation_id))
        assert stored is not None and stored.revision == 1  # the intruder's tap was not recorded


async def test_api_channel_callback_and_answer(system: LiveServer) -> None:
    receiver = Receiver()
    await receiver.start()
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        created = await client.post(
            "/api/v1/inboxes",
            headers=tenant.headers,
            json={"name": "Back end", "channel": "api", "settings": {"callback_url": receiver.url + "/callback"}},
        )
        inbox = created.json()
        await _surveys_on(client, tenant, inbox["id"])

        async def send(payload: dict[str, Any]) -> httpx.Response:
            body = json.dumps(payload).encode()
            return await client.post(
                f"/webhooks/api/{inbox['id']}", content=body, headers=signing.signed_headers(inbox["secret"], body)
            )

        contact = {"external_id": "cust-7"}
        assert (await send({"contact": contact, "message": {"id": "m-1", "text": "hello"}})).status_code == 202
        conversation_id = await _first_conversation(client, tenant)
        await _resolve(client, tenant, conversation_id)
        call = (await receiver.wait_for(1, "/callback"))[0]
        assert signing.verify(
            [inbox["secret"]], call.headers[signing.TIMESTAMP_HEADER], call.body, call.headers[signing.SIGNATURE_HEADER]
        )
        requested = call.json()
        assert requested["event"] == "csat.requested" and requested["conversation_id"] == conversation_id
        assert requested["contact"] == {"external_id": "cust-7"} and requested["csat"]["ratings"] == [1, 2, 3, 4, 5]
        both = await send(
            {
                "contact": contact,
                "message": {"id": "m-2", "text": "x"},
                "csat": {"conversation_id": conversation_id, "rating": 1},
            }
        )
        assert both.status_code == 422
        answered = await send(
            {"contact": contact, "csat": {"conversation_id": conversation_id, "rating": 4, "comment": "quick"}}
        )
        assert answered.status_code == 202, answered.text
        rated = await _rated(client, tenant, conversation_id, 4)
        assert rated["csat"]["comment"] == "quick"
        other = await send(
            {"contact": {"external_id": "cust-8"}, "csat": {"conversation_id": conversation_id, "rating": 1}}
        )
        assert other.status_code == 202  # accepted on the ack path, then ignored: not this conversation's contact
        assert (await _rated(client, tenant, conversation_id, 4))["csat"]["rating"] == 4
    await receiver.stop()
