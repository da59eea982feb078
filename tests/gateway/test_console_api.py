"""What the agent console needs from the API (issue 22), end to end on the real servers: agents read as
stored, chosen presence across reconnects, conversation lists that say who waits and for how long, unread
counts, transfer notes for the next agent, live frames for every agent of the account, the visitor told about
assignment and resolve, linked follow-up conversations, widget read receipts, clear errors and the favicon."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers.api import (
    Socket,
    Tenant,
    create_agent,
    create_web_inbox,
    eventually,
    online_agent,
    signup,
    visitor_session,
)
from tests.helpers.live import LiveServer


async def visitor_writes(
    client: httpx.AsyncClient, inbox: dict[str, Any], text: str, session: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    session = session or await visitor_session(client, inbox["widget_token"], **fields)
    response = await client.post(
        "/api/v1/widget/messages", json={"text": text}, headers={"Authorization": f"Bearer {session['visitor_token']}"}
    )
    assert response.status_code == 202, response.text
    return {**session, **response.json()}


async def get(client: httpx.AsyncClient, tenant: Tenant, path: str) -> Any:
    response = await client.get(path, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_agent_reads_return_stored_skills_and_teams(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    team = (await client.post("/api/v1/teams", json={"name": "Billing"}, headers=tenant.headers)).json()
    agent_id, _ = await create_agent(client, tenant)
    patched = await client.patch(
        f"/api/v1/agents/{agent_id}", json={"skills": ["fr", "billing"], "teams": [team["id"]]}, headers=tenant.headers
    )
    assert patched.status_code == 200, patched.text
    one = await get(client, tenant, f"/api/v1/agents/{agent_id}")
    assert one["skills"] == ["billing", "fr"] and one["teams"] == [team["id"]]
    listed = {a["id"]: a for a in await get(client, tenant, "/api/v1/agents")}
    assert listed[agent_id]["skills"] == ["billing", "fr"] and listed[agent_id]["teams"] == [team["id"]]
    # Saving only the capacity (what the console's form sends when only that changed) keeps the rest.
    await client.patch(f"/api/v1/agents/{agent_id}", json={"max_conversations": 3}, headers=tenant.headers)
    again = await get(client, tenant, f"/api/v1/agents/{agent_id}")
    assert again["teams"] == [team["id"]] and again["skills"] == ["billing", "fr"] and again["max_conversations"] == 3


async def test_chosen_presence_survives_reconnects_and_routing_skips_away(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    agent_id, token = await create_agent(client, tenant)
    socket = await Socket.open(f"{server.ws_url}/api/v1/ws?token={token}")
    ready = await socket.wait_for(lambda f: f["type"] == "session.ready")
    assert ready["status"] == "online"
    away = await client.put("/api/v1/presence", json={"status": "away"}, headers={"Authorization": f"Bearer {token}"})
    assert away.status_code == 200, away.text
    await socket.close()
    # A reload: a new socket. The agent stays away.
    socket = await Socket.open(f"{server.ws_url}/api/v1/ws?token={token}")
    try:
        ready = await socket.wait_for(lambda f: f["type"] == "session.ready")
        assert ready["status"] == "away"
        assert (await get(client, tenant, f"/api/v1/agents/{agent_id}"))["status"] == "away"
        # The router does not give the away agent a new chat: it waits in the queue.
        written = await visitor_writes(client, inbox, "anyone there?")
        conversation = await eventually(lambda: _queued(client, tenant, written["conversation_id"]), timeout=15)
        assert conversation.get("assignee_id") is None
        # Choosing online again makes the agent available; the waiting chat goes to them.
        await socket.send({"type": "presence", "status": "online"})
        await socket.wait_for(
            lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == written["conversation_id"]
        )
    finally:
        await socket.close()


async def _queued(client: httpx.AsyncClient, tenant: Tenant, conversation_id: str) -> dict[str, Any] | None:
    response = await client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers)
    if response.status_code != 200:
        return None
    body = response.json()
    return body if body.get("queue_position") else None


async def test_list_shows_who_waits_first_with_preview_and_unread(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    # Nobody online: the first conversation waits in the queue.
    queued = await visitor_writes(client, inbox, "first in the queue", name="Quinn")
    agent_id, token, socket = await online_agent(client, server, tenant)
    try:
        await socket.wait_for(lambda f: f["type"] == "conversation.assigned")
        await client.put("/api/v1/presence", json={"status": "away"}, headers={"Authorization": f"Bearer {token}"})
        waiting = await visitor_writes(client, inbox, "x" * 300, name="Wanda")
        await eventually(lambda: _queued(client, tenant, waiting["conversation_id"]))

        async def listed_with_previews() -> list[dict[str, Any]] | None:
            # The router queues a conversation and the timeline stores its message independently (two
            # consumers): the list shows both once each is done.
            rows = await get(client, tenant, "/api/v1/conversations?status=open&sort=needs_answer")
            return rows if all(r.get("last_message") for r in rows) else None

        rows = await eventually(listed_with_previews)
        by_id = {r["id"]: r for r in rows}
        first = by_id[queued["conversation_id"]]
        assert first["contact_name"] == "Quinn" and first["assignee_id"] == agent_id
        assert first["last_message"]["text"] == "first in the queue"
        assert first["last_message"]["direction"] == "inbound"
        assert first["waiting_since"] is not None and first["unread_count"] == 1
        second = by_id[waiting["conversation_id"]]
        assert second["queued_at"] is not None and second["queue_position"] == 1
        assert len(second["last_message"]["text"]) == 160  # a preview, not the whole text
        # Waiting in the queue comes first, then the customer waiting for a reply.
        assert [r["id"] for r in rows][:2] == [waiting["conversation_id"], queued["conversation_id"]]
        # The agent answers and reads it: no longer waiting, nothing unread.
        cid = queued["conversation_id"]
        reply = await client.post(
            f"/api/v1/conversations/{cid}/messages", json={"text": "on it"}, headers=tenant.headers
        )
        assert reply.status_code == 201
        assert (await client.post(f"/api/v1/conversations/{cid}/read", headers=tenant.headers)).status_code == 204
        answered = await get(client, tenant, f"/api/v1/conversations/{cid}")
        assert answered.get("waiting_since") is None and answered["unread_count"] == 0
        assert answered["last_message"]["direction"] == "outbound"
        other = await signup(client)
        assert (await client.post(f"/api/v1/conversations/{cid}/read", headers=other.headers)).status_code == 404
        # The contact's conversations (the console's contact panel).
        contact_id = answered["contact_id"]
        mine = await get(client, tenant, f"/api/v1/conversations?status=all&contact_id={contact_id}")
        assert [r["id"] for r in mine] == [cid]
    finally:
        await socket.close()


async def test_transfer_note_reaches_the_next_agent_never_the_visitor(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    a_id, a_token, a_socket = await online_agent(client, server, tenant)
    written = await visitor_writes(client, inbox, "my order is late")
    cid = written["conversation_id"]
    b_socket = None
    try:
        await a_socket.wait_for(lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == cid)
        b_id, _, b_socket = await online_agent(client, server, tenant)
        note = "VIP customer, refund approved by Maria"
        moved = await client.post(
            f"/api/v1/conversations/{cid}/transfer",
            json={"agent_id": b_id, "note": note},
            headers={"Authorization": f"Bearer {a_token}"},
        )
        assert moved.status_code == 200, moved.text
        assigned = await b_socket.wait_for(
            lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == cid
        )
        notes = [m for m in assigned["messages"] if m.get("private")]
        assert [(n["text"], n["sender_id"]) for n in notes] == [(note, a_id)]
        timeline = await get(client, tenant, f"/api/v1/conversations/{cid}/messages")
        assert [m["text"] for m in timeline if m["private"]] == [note]
        history = await client.get(
            "/api/v1/widget/messages", headers={"Authorization": f"Bearer {written['visitor_token']}"}
        )
        assert note not in [m["text"] for m in history.json()]
    finally:
        await a_socket.close()
        if b_socket is not None:
            await b_socket.close()


async def test_every_agent_sees_status_assignee_and_presence_live(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    a_id, a_token, a_socket = await online_agent(client, server, tenant)
    # The owner watches without being the assignee (a supervisor's open conversation).
    owner = await Socket.open(f"{server.ws_url}/api/v1/ws?token={tenant.token}")
    try:
        await owner.wait_for(lambda f: f["type"] == "session.ready")
        await client.put("/api/v1/presence", json={"status": "away"}, headers=tenant.headers)
        written = await visitor_writes(client, inbox, "hello")
        cid = written["conversation_id"]
        await a_socket.wait_for(lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == cid)
        await owner.wait_for(
            lambda f: f["type"] == "conversation.updated" and f["conversation_id"] == cid and f["assignee_id"] == a_id
        )
        resolved = await client.post(
            f"/api/v1/conversations/{cid}/resolve", headers={"Authorization": f"Bearer {a_token}"}
        )
        assert resolved.status_code == 200
        await owner.wait_for(
            lambda f: f["type"] == "conversation.updated" and f["conversation_id"] == cid and f["status"] == "resolved"
        )
        await client.put("/api/v1/presence", json={"status": "away"}, headers={"Authorization": f"Bearer {a_token}"})
        await owner.wait_for(
            lambda f: f["type"] == "agent.presence" and f["agent_id"] == a_id and f["status"] == "away"
        )
    finally:
        await owner.close()
        await a_socket.close()


async def test_visitor_is_told_and_the_next_conversation_follows_the_resolved_one(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    _, a_token, a_socket = await online_agent(client, server, tenant)
    first = await visitor_writes(client, inbox, "question one")
    visitor = await Socket.open(f"{server.ws_url}/api/v1/widget/ws?token={first['visitor_token']}")
    try:
        cid = first["conversation_id"]
        await visitor.wait_for(lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == cid)
        await client.post(f"/api/v1/conversations/{cid}/resolve", headers={"Authorization": f"Bearer {a_token}"})
        await visitor.wait_for(lambda f: f["type"] == "conversation.resolved" and f["conversation_id"] == cid)
        second = await visitor_writes(client, inbox, "question two", session=first)
        assert second["conversation_id"] != cid
        follow_up = await get(client, tenant, f"/api/v1/conversations/{second['conversation_id']}")
        assert follow_up["previous_conversation_id"] == cid
        first_ever = await get(client, tenant, f"/api/v1/conversations/{cid}")
        assert first_ever.get("previous_conversation_id") is None
    finally:
        await visitor.close()
        await a_socket.close()


async def test_widget_receipts_mark_replies_delivered_and_read(client: httpx.AsyncClient, server: LiveServer) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    _, a_token, a_socket = await online_agent(client, server, tenant)
    written = await visitor_writes(client, inbox, "hi")
    cid = written["conversation_id"]
    visitor = await Socket.open(f"{server.ws_url}/api/v1/widget/ws?token={written['visitor_token']}")
    try:
        await a_socket.wait_for(lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == cid)
        headers = {"Authorization": f"Bearer {a_token}"}
        one = (await client.post(f"/api/v1/conversations/{cid}/messages", json={"text": "one"}, headers=headers)).json()
        two = (await client.post(f"/api/v1/conversations/{cid}/messages", json={"text": "two"}, headers=headers)).json()
        await visitor.wait_for(lambda f: f["type"] == "message.created" and f["message"]["id"] == two["id"])
        await visitor.send({"type": "delivered", "message_id": two["id"]})
        await a_socket.wait_for(
            lambda f: (
                f["type"] == "message.delivery_updated" and f["message_id"] == one["id"] and f["status"] == "delivered"
            )
        )
        await visitor.send({"type": "read", "message_id": two["id"]})
        for message in (one, two):
            await a_socket.wait_for(
                lambda f, m=message: (
                    f["type"] == "message.delivery_updated" and f["message_id"] == m["id"] and f["status"] == "read"
                )
            )

        async def all_read() -> bool:
            stored = await get(client, tenant, f"/api/v1/conversations/{cid}/messages")
            return [m["delivery_status"] for m in stored if m["direction"] == "outbound"] == ["read", "read"]

        await eventually(all_read)
        # Another visitor cannot mark this conversation's replies.
        stranger = await visitor_session(client, inbox["widget_token"])
        other = await Socket.open(f"{server.ws_url}/api/v1/widget/ws?token={stranger['visitor_token']}")
        await other.send({"type": "read", "message_id": "not-a-uuid"})
        await other.close()
    finally:
        await visitor.close()
        await a_socket.close()


async def test_too_long_message_is_refused_with_field_details(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    session = await visitor_session(client, inbox["widget_token"])
    response = await client.post(
        "/api/v1/widget/messages",
        json={"text": "x" * 20_000},
        headers={"Authorization": f"Bearer {session['visitor_token']}"},
    )
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert any(d["loc"][-1] == "text" and d["type"] == "string_too_long" for d in details)


async def test_favicon_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"
