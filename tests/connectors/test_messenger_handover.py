"""Messenger's handover protocol end to end against the fake Graph API (which keeps who holds each thread and
refuses sends to a thread another app holds, as Graph does), with notifications in Meta's documented shapes:
another app takes the thread and the customer's messages arrive under ``standby``; an agent's reply or
claim takes it back; ``request_thread_control`` is answered; a page without handover ignores all of it."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from switchboard_connectors.channels.messenger.client import GraphApi
from switchboard_connectors.channels.messenger.handover import PAGE_INBOX_APP_ID, ThreadControl
from switchboard_devstack.servers import StackUrls

from tests.fakes.graph import FakeGraph
from tests.helpers.api import Socket, Tenant, create_agent, eventually, signup
from tests.helpers.live import LiveServer, live_server
from tests.helpers.messenger import APP_SECRET, messenger_inbox, new_page, post, text_event, webhook
from tests.helpers.redis_keys import unregistered_keys

OUR_APP = "1234567890"


@pytest.fixture(scope="module")
async def system(stack_urls: StackUrls, fake_graph: FakeGraph) -> AsyncIterator[LiveServer]:
    async with live_server(
        stack_urls,
        GRAPH_API_URL=fake_graph.url,
        MESSENGER_APP_SECRET=APP_SECRET,
        MESSENGER_APP_ID=OUR_APP,
        MESSENGER_MAX_WAIT_SECONDS="5",
    ) as live:
        yield live


@pytest.fixture
async def threads(system: LiveServer, fake_graph: FakeGraph) -> AsyncIterator[ThreadControl]:
    """Reads the connectors' record of who holds a thread (the same Redis the running service writes)."""
    api = GraphApi(fake_graph.url)
    yield ThreadControl(system.resources("connectors"), api, OUR_APP)
    await api.stop()


def control(page: str, psid: str, kind: str, **fields: Any) -> dict[str, Any]:
    """A handover notification as Meta sends it (``messaging_handovers``)."""
    return {"sender": {"id": psid}, "recipient": {"id": page}, "timestamp": int(time.time() * 1000), kind: fields}


def receipt(page: str, psid: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {"sender": {"id": psid}, "recipient": {"id": page}, "timestamp": int(time.time() * 1000), kind: fields}


def standby(page: str, events: list[dict[str, Any]]) -> bytes:
    return json.dumps(
        {"object": "page", "entry": [{"id": page, "time": int(time.time() * 1000), "standby": events}]}
    ).encode()


async def agent_session(system: LiveServer, client: httpx.AsyncClient, tenant: Tenant) -> tuple[Socket, dict[str, str]]:
    _, token = await create_agent(client, tenant, max_conversations=10)
    socket = await Socket.open(f"{system.ws_url}/api/v1/ws?token={token}")
    await socket.wait_for(lambda f: f["type"] == "session.ready")
    return socket, {"Authorization": f"Bearer {token}"}


async def reply(client: httpx.AsyncClient, headers: dict[str, str], conversation_id: str, text: str) -> str:
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": text}, headers=headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def delivery(socket: Socket, message_id: str, status: str) -> Any:
    return socket.wait_for(
        lambda f: f["type"] == "message.delivery_updated" and f["message_id"] == message_id and f["status"] == status
    )


def out_mid(fake: FakeGraph, text: str) -> str:
    """The Send API's ``message_id`` for the message we sent with this text (for receipts)."""
    return next(f"m_out_{n}" for n, (body, _) in enumerate(fake.sent(), 1) if body["message"].get("text") == text)


async def test_page_inbox_takes_the_thread_and_the_agent_takes_it_back(
    system: LiveServer, fake_graph: FakeGraph, threads: ThreadControl
) -> None:
    page, psid = new_page(), "9100001"
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        inbox = await messenger_inbox(client, tenant, page, fake_graph, handover_target_app_id=PAGE_INBOX_APP_ID)
        agent, headers = await agent_session(system, client, tenant)
        assert (await post(client, webhook([(page, [text_event(page, psid, "m_h1", "hi")])]))).status_code == 200
        conversation_id = (await agent.wait_for(lambda f: f["type"] == "conversation.assigned"))["conversation_id"]
        # While Switchboard holds the thread, replies go straight out: no thread call at all.
        first = await reply(client, headers, conversation_id, "Hello, how can I help?")
        await delivery(agent, first, "sent")
        assert fake_graph.sent("me/take_thread_control") == [] and fake_graph.sent("me/pass_thread_control") == []

        # A person answers from Meta's Page Inbox: it takes the thread, and Meta tells us so.
        fake_graph.owners[psid] = PAGE_INBOX_APP_ID
        took = control(
            page,
            psid,
            "take_thread_control",
            previous_owner_app_id=OUR_APP,
            new_owner_app_id=PAGE_INBOX_APP_ID,
            metadata="",
        )
        accepted = await post(client, webhook([(page, [took])]))
        assert accepted.status_code == 200 and accepted.json()["accepted"] == 1
        redelivered = await post(client, webhook([(page, [took])]))  # Meta's redelivery: handled once
        assert redelivered.status_code == 200 and redelivered.json()["accepted"] == 0
        assert await eventually(lambda: _is(threads.other_owner(inbox_id(inbox), psid), PAGE_INBOX_APP_ID))
        # The customer's messages now reach us under standby; the agent still sees them.
        waiting = await post(client, standby(page, [text_event(page, psid, "m_h2", "are you still there?")]))
        assert waiting.status_code == 200 and waiting.json()["accepted"] == 1
        await agent.wait_for(
            lambda f: f["type"] == "message.created" and f["message"]["text"] == "are you still there?"
        )

        # The agent replies: Switchboard takes the thread back first, so Graph never refuses the reply.
        takes = len(fake_graph.sent("me/take_thread_control"))
        second = await reply(client, headers, conversation_id, "Yes, I am here.")
        await delivery(agent, second, "sent")
        [(taken, token)] = fake_graph.sent("me/take_thread_control")[takes:]
        assert taken["recipient"] == {"id": psid} and fake_graph.pages[token] == page
        assert [body["recipient"] for _, body in fake_graph.refused] == [] and psid not in fake_graph.owners
        assert await threads.other_owner(inbox_id(inbox), psid) is None

        # Page Inbox asks for the thread while our agent handles the conversation: declined. The delivery
        # receipt behind the request in the same batch proves the request was handled first.
        asked = control(
            page,
            psid,
            "request_thread_control",
            requested_owner_app_id=PAGE_INBOX_APP_ID,
            metadata="customer asked in Page Inbox",
        )
        delivered = receipt(page, psid, "delivery", mids=[out_mid(fake_graph, "Yes, I am here.")])
        assert (await post(client, webhook([(page, [asked, delivered])]))).status_code == 200
        await delivery(agent, second, "delivered")
        assert fake_graph.sent("me/pass_thread_control") == []

        # Page Inbox takes it again, then passes it back ("Done" in Page Inbox): we hold it, the next reply
        # needs no take. The read receipt behind them orders the check.
        fake_graph.owners.pop(psid, None)
        again = control(
            page,
            psid,
            "take_thread_control",
            previous_owner_app_id=OUR_APP,
            new_owner_app_id=PAGE_INBOX_APP_ID,
            metadata="",
        )
        back = control(
            page,
            psid,
            "pass_thread_control",
            previous_owner_app_id=PAGE_INBOX_APP_ID,
            new_owner_app_id=OUR_APP,
            metadata="done",
        )
        again["timestamp"] -= 1
        read = receipt(page, psid, "read", watermark=int(time.time() * 1000) + 1000)
        assert (await post(client, webhook([(page, [again, back, read])]))).status_code == 200
        await delivery(agent, second, "read")
        assert await threads.other_owner(inbox_id(inbox), psid) is None
        third = await reply(client, headers, conversation_id, "Anything else?")
        await delivery(agent, third, "sent")
        assert len(fake_graph.sent("me/take_thread_control")) == takes + 1

        # Resolved: nobody of ours handles the customer, so a request for the thread is granted.
        resolved = await client.post(f"/api/v1/conversations/{conversation_id}/resolve", headers=headers)
        assert resolved.status_code == 200, resolved.text
        asked_again = control(
            page, psid, "request_thread_control", requested_owner_app_id=PAGE_INBOX_APP_ID, metadata=""
        )
        assert (await post(client, webhook([(page, [asked_again])]))).status_code == 200
        [(passed, _)] = await fake_graph.wait_calls("me/pass_thread_control", 1)
        assert passed == {"recipient": {"id": psid}, "target_app_id": PAGE_INBOX_APP_ID, "metadata": "requested"}
        assert fake_graph.owners[psid] == PAGE_INBOX_APP_ID
        await agent.close()


async def test_claim_takes_the_thread_and_unknown_holders_are_handled(
    system: LiveServer, fake_graph: FakeGraph, threads: ThreadControl
) -> None:
    page, psid, other = new_page(), "9200001", "9200002"
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        inbox = await messenger_inbox(client, tenant, page, fake_graph, handover_target_app_id=PAGE_INBOX_APP_ID)
        routing = await client.put(
            f"/api/v1/inboxes/{inbox['id']}/routing", json={"strategy": "manual"}, headers=tenant.headers
        )
        assert routing.status_code == 200, routing.text
        agent, headers = await agent_session(system, client, tenant)
        # Page Inbox holds the thread; the customer writes (under standby) and the conversation waits.
        fake_graph.owners[psid] = PAGE_INBOX_APP_ID
        took = control(
            page,
            psid,
            "take_thread_control",
            previous_owner_app_id=OUR_APP,
            new_owner_app_id=PAGE_INBOX_APP_ID,
            metadata="",
        )
        assert (await post(client, webhook([(page, [took])]))).status_code == 200
        assert await eventually(lambda: _is(threads.other_owner(inbox_id(inbox), psid), PAGE_INBOX_APP_ID))
        body = standby(page, [text_event(page, psid, "m_c1", "hello?")])
        assert (await post(client, body)).json()["accepted"] == 1
        conversation_id = await eventually(lambda: _waiting_conversation(client, tenant))
        takes = len(fake_graph.sent("me/take_thread_control"))
        claimed = await client.post(f"/api/v1/conversations/{conversation_id}/claim", headers=headers)
        assert claimed.status_code == 200, claimed.text
        # The claim alone takes the thread back, before any reply.
        [(taken, _)] = (await fake_graph.wait_calls("me/take_thread_control", takes + 1))[takes:]
        assert taken["recipient"] == {"id": psid}
        assert await eventually(lambda: _is(threads.other_owner(inbox_id(inbox), psid), None))

        # Another customer's thread was taken without any notification reaching us: Graph refuses the agent's
        # reply (10 / 2018300), Switchboard takes the thread and sends again.
        assert (await post(client, webhook([(page, [text_event(page, other, "m_c2", "hi there")])]))).status_code == 200
        second_id = await eventually(lambda: _waiting_conversation(client, tenant, exclude=conversation_id))
        assert (await client.post(f"/api/v1/conversations/{second_id}/claim", headers=headers)).status_code == 200
        fake_graph.owners[other] = "555000111"
        refused = len(fake_graph.refused)
        sent = await reply(client, headers, second_id, "Hi, I'm Ana.")
        await delivery(agent, sent, "sent")
        assert [(path, body["recipient"]) for path, body in fake_graph.refused[refused:]] == [
            ("me/messages", {"id": other})
        ]
        assert other not in fake_graph.owners

        # Switchboard is only a secondary receiver for this page: the take is refused, so it asks the owner
        # (request_thread_control) and the agent learns why the reply did not go out.
        fake_graph.primary = False
        fake_graph.owners[other] = "555000111"
        try:
            blocked = await reply(client, headers, second_id, "Are you there?")
            failed = await agent.wait_for(
                lambda f: f["type"] == "message.delivery_updated" and f["message_id"] == blocked
            )
            assert failed["status"] == "failed" and failed["reason"] == "thread_owned_by_other_app"
            [(requested, _)] = fake_graph.sent("me/request_thread_control")
            assert requested["recipient"] == {"id": other}
        finally:
            fake_graph.primary = True
        await agent.close()


async def test_pages_without_handover_ignore_other_apps_threads(system: LiveServer, fake_graph: FakeGraph) -> None:
    page, psid = new_page(), "9300001"
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        await messenger_inbox(client, tenant, page, fake_graph)
        took = control(
            page,
            psid,
            "take_thread_control",
            previous_owner_app_id=OUR_APP,
            new_owner_app_id=PAGE_INBOX_APP_ID,
            metadata="",
        )
        asked = control(page, psid, "request_thread_control", requested_owner_app_id=PAGE_INBOX_APP_ID, metadata="")
        ignored = await post(client, webhook([(page, [took, asked])]))
        assert ignored.status_code == 200 and ignored.json()["accepted"] == 0
        other_app = await post(client, standby(page, [text_event(page, psid, "m_n1", "for the other app")]))
        assert other_app.status_code == 200 and other_app.json()["accepted"] == 0


def inbox_id(inbox: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(inbox["id"])


async def _is(value: Any, expected: Any) -> bool:
    return (await value) == expected


async def _waiting_conversation(client: httpx.AsyncClient, tenant: Tenant, exclude: str | None = None) -> str | None:
    listed = await client.get("/api/v1/conversations", headers=tenant.headers)
    for conversation in listed.json():
        if conversation["id"] != exclude and conversation["status"] == "open" and not conversation.get("assignee_id"):
            return str(conversation["id"])
    return None


async def test_every_key_left_in_redis_is_registered(system: LiveServer, stack_urls: StackUrls) -> None:
    """What this module's run wrote to Redis was named by the key registry (tests/helpers/redis_keys.py)."""
    assert await unregistered_keys(stack_urls.redis_url, system.env["REDIS_NAMESPACE"]) == []
