# ruff: noqa: RUF001 - Greek, Hungarian and Albanian text is the point of these tests
"""The agent's workspace (issue 18), end to end on the real servers: private notes with mentions, labels (by
hand, by an inbox's routing rule, as a list filter), canned responses, full-text search per language, who
may see which conversation (``all``, ``team``, ``assigned``) on every read and on the socket, and contact
notes and attributes."""

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


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def visitor_writes(
    client: httpx.AsyncClient, inbox: dict[str, Any], text: str, session: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    session = session or await visitor_session(client, inbox["widget_token"], **fields)
    response = await client.post(
        "/api/v1/widget/messages", json={"text": text}, headers=bearer(session["visitor_token"])
    )
    assert response.status_code == 202, response.text
    return {**session, **response.json()}


async def stored(client: httpx.AsyncClient, tenant: Tenant, conversation_id: str, count: int) -> list[dict[str, Any]]:
    async def check() -> list[dict[str, Any]] | None:
        response = await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=tenant.headers)
        rows = response.json() if response.status_code == 200 else []
        return rows if len(rows) >= count else None

    return list(await eventually(check))


async def test_private_note_reaches_agents_with_its_author_never_the_visitor(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    author_id, author_token, author = await online_agent(client, server, tenant, name="Ada Lovelace")
    bee_id, bee_token = await create_agent(client, tenant, name="Bee Bumble")
    await client.put("/api/v1/presence", json={"status": "away"}, headers=bearer(bee_token))
    bee = await Socket.open(f"{server.ws_url}/api/v1/ws?token={bee_token}")
    visitor = await visitor_session(client, inbox["widget_token"], name="Vera")
    widget = await Socket.open(f"{server.ws_url}/api/v1/widget/ws?token={visitor['visitor_token']}")
    try:
        await widget.wait_for(lambda f: f["type"] == "session.ready")
        await bee.wait_for(lambda f: f["type"] == "session.ready")
        written = await visitor_writes(client, inbox, "my card was charged twice", visitor)
        cid = written["conversation_id"]
        await author.wait_for(lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == cid)
        text = "@bee bumble can you confirm the double charge? Ref 7781"
        note = await client.post(
            f"/api/v1/conversations/{cid}/messages", json={"text": text, "private": True}, headers=bearer(author_token)
        )
        assert note.status_code == 201, note.text
        body = note.json()
        assert body["private"] is True and body["sender_id"] == author_id and body["mentions"] == [bee_id]
        # The mentioned agent is told on their socket; every agent who sees the conversation gets the note.
        mention = await bee.wait_for(lambda f: f["type"] == "note.mention" and f["conversation_id"] == cid)
        assert mention["author_id"] == author_id and mention["message"]["text"] == text
        shared = await bee.wait_for(lambda f: f["type"] == "note.created" and f["conversation_id"] == cid)
        assert shared["message"]["private"] is True and shared["message"]["sender_id"] == author_id
        # The timeline shows it as a note with its author.
        timeline = await stored(client, tenant, cid, 2)
        assert [(m["text"], m["private"], m["sender_id"]) for m in timeline if m["private"]] == [
            (text, True, author_id)
        ]
        # A reply after it reaches the visitor; the note, written before, never did.
        reply = await client.post(
            f"/api/v1/conversations/{cid}/messages", json={"text": "Refund on its way"}, headers=bearer(author_token)
        )
        assert reply.status_code == 201
        await widget.wait_for(lambda f: f["type"] == "message.created" and f["message"]["text"] == "Refund on its way")
        assert all("7781" not in str(frame) for frame in widget.frames)
        history = await client.get("/api/v1/widget/messages", headers=bearer(visitor["visitor_token"]))
        assert "Refund on its way" in str(history.json()) and "7781" not in str(history.json())
        # The list's preview is the reply, never the note.
        row = (await client.get(f"/api/v1/conversations/{cid}", headers=tenant.headers)).json()
        assert row["last_message"]["text"] == "Refund on its way"
        # Mentions are for notes; an unknown agent is refused.
        refused = await client.post(
            f"/api/v1/conversations/{cid}/messages",
            json={"text": "x", "mentions": [bee_id]},
            headers=bearer(author_token),
        )
        # The schema says so: mentions belong to a private note (a reply has no such field).
        assert refused.status_code == 422
        assert ["body", "ReplyCreate", "mentions"] in [d["loc"] for d in refused.json()["error"]["details"]]
        stranger = await signup(client)
        unknown = await client.post(
            f"/api/v1/conversations/{cid}/messages",
            json={"text": "x", "private": True, "mentions": [stranger.owner_id]},
            headers=bearer(author_token),
        )
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_agent"
    finally:
        for socket in (author, bee, widget):
            await socket.close()


async def test_labels_by_hand_by_routing_rule_and_as_a_filter(client: httpx.AsyncClient, server: LiveServer) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    _, agent_token = await create_agent(client, tenant)
    created = await client.post("/api/v1/labels", json={"name": "Billing", "color": "#1E88E5"}, headers=tenant.headers)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "billing" and created.json()["color"] == "#1e88e5"
    assert (await client.post("/api/v1/labels", json={"name": "billing"}, headers=tenant.headers)).status_code == 409
    assert (await client.post("/api/v1/labels", json={"name": "vip"}, headers=bearer(agent_token))).status_code == 403
    for bad in ({"name": "two words"}, {"name": "ok", "color": "red"}, {"name": ""}):
        assert (await client.post("/api/v1/labels", json=bad, headers=tenant.headers)).status_code == 422
    await client.post("/api/v1/labels", json={"name": "vip", "color": "#aa00aa"}, headers=tenant.headers)
    listed = (await client.get("/api/v1/labels", headers=bearer(agent_token))).json()
    assert [label["name"] for label in listed] == ["billing", "vip"]

    first = await visitor_writes(client, inbox, "invoice question")
    second = await visitor_writes(client, inbox, "another thing")
    await stored(client, tenant, second["conversation_id"], 1)
    put = await client.put(
        f"/api/v1/conversations/{first['conversation_id']}/labels",
        json={"labels": ["billing", "VIP"]},
        headers=bearer(agent_token),
    )
    assert put.status_code == 200, put.text
    assert put.json()["labels"] == ["billing", "vip"]
    unknown = await client.put(
        f"/api/v1/conversations/{first['conversation_id']}/labels", json={"labels": ["nope"]}, headers=tenant.headers
    )
    assert unknown.status_code == 409 and unknown.json()["error"]["code"] == "unknown_label"
    got = (await client.get(f"/api/v1/conversations/{first['conversation_id']}", headers=tenant.headers)).json()
    assert got["labels"] == ["billing", "vip"]
    filtered = (await client.get("/api/v1/conversations?status=all&label=billing", headers=tenant.headers)).json()
    assert [c["id"] for c in filtered] == [first["conversation_id"]] and filtered[0]["labels"] == ["billing", "vip"]
    # Replacing: exactly the given labels afterwards.
    await client.put(
        f"/api/v1/conversations/{first['conversation_id']}/labels", json={"labels": ["vip"]}, headers=tenant.headers
    )
    assert (await client.get("/api/v1/conversations?status=all&label=billing", headers=tenant.headers)).json() == []

    # An inbox's routing rule labels every new conversation of it.
    routed = await create_web_inbox(client, tenant)
    refused = await client.put(
        f"/api/v1/inboxes/{routed['id']}/routing", json={"labels": ["missing"]}, headers=tenant.headers
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "unknown_label"
    rule = await client.put(
        f"/api/v1/inboxes/{routed['id']}/routing", json={"labels": ["Billing"]}, headers=tenant.headers
    )
    assert rule.status_code == 200 and rule.json()["labels"] == ["billing"]
    third = await visitor_writes(client, routed, "charged twice")
    labelled = (await client.get(f"/api/v1/conversations/{third['conversation_id']}", headers=tenant.headers)).json()
    assert labelled["labels"] == ["billing"]
    counts = {
        label["name"]: label["conversation_count"]
        for label in (await client.get("/api/v1/labels", headers=tenant.headers)).json()
    }
    assert counts == {"billing": 1, "vip": 1}
    # Another account neither sees nor uses these labels.
    other = await signup(client)
    assert (await client.get("/api/v1/labels", headers=other.headers)).json() == []
    hidden = await client.put(
        f"/api/v1/conversations/{first['conversation_id']}/labels", json={"labels": []}, headers=other.headers
    )
    assert hidden.status_code == 404


async def test_canned_responses_by_short_code_with_placeholders(client: httpx.AsyncClient, server: LiveServer) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    agent_id, agent_token, socket = await online_agent(client, server, tenant, name="Nikos")
    try:
        created = await client.post(
            "/api/v1/canned-responses",
            json={
                "short_code": "refund",
                "content": "Hi {{contact.name}}, {{agent.name}} here: your refund is on its way.",
            },
            headers=bearer(agent_token),
        )
        assert created.status_code == 201, created.text
        await client.post(
            "/api/v1/canned-responses",
            json={"short_code": "hours", "content": "We answer 9-17, refund requests included."},
            headers=tenant.headers,
        )
        duplicate = await client.post(
            "/api/v1/canned-responses", json={"short_code": "REFUND", "content": "x"}, headers=tenant.headers
        )
        assert duplicate.status_code == 409
        bad = await client.post(
            "/api/v1/canned-responses", json={"short_code": "two words", "content": "x"}, headers=tenant.headers
        )
        assert bad.status_code == 422
        # By short code prefix first, then by content.
        found = (await client.get("/api/v1/canned-responses?q=ref", headers=bearer(agent_token))).json()
        assert [r["short_code"] for r in found] == ["refund", "hours"]
        assert [
            r["short_code"] for r in (await client.get("/api/v1/canned-responses?q=/ho", headers=tenant.headers)).json()
        ] == ["hours"]
        written = await visitor_writes(client, inbox, "where is my money", name="Eleni")
        cid = written["conversation_id"]
        await socket.wait_for(lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == cid)
        rendered = (
            await client.get(f"/api/v1/canned-responses?q=refund&conversation_id={cid}", headers=bearer(agent_token))
        ).json()
        assert rendered[0]["rendered"] == "Hi Eleni, Nikos here: your refund is on its way."
        other = await signup(client)
        assert (await client.get("/api/v1/canned-responses?q=refund", headers=other.headers)).json() == []
        # The author or an admin edits; another agent may not.
        _, someone = await create_agent(client, tenant)
        edit = await client.patch(
            f"/api/v1/canned-responses/{created.json()['id']}", json={"content": "changed"}, headers=bearer(someone)
        )
        assert edit.status_code == 403
        del agent_id
    finally:
        await socket.close()


async def test_search_per_language_ranked_highlighted_filtered_and_paged(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    tenant = await signup(client)
    greek_inbox = await create_web_inbox(client, tenant)
    other_inbox = (
        await client.post(
            "/api/v1/inboxes",
            json={"name": "Shop", "channel": "web", "settings": {"language": "en"}},
            headers=tenant.headers,
        )
    ).json()
    greek = await visitor_writes(client, greek_inbox, "Θέλω επιστροφή χρημάτων για την παραγγελία", name="Ελένη")
    # A Hungarian page's inbox says its language; a message with ő/ű/ë or Greek letters says its own.
    hungarian_inbox = (
        await client.post(
            "/api/v1/inboxes",
            json={"name": "Hungarian shop", "channel": "web", "settings": {"language": "hu"}},
            headers=tenant.headers,
        )
    ).json()
    hungarian = await visitor_writes(client, hungarian_inbox, "A csomagom még nem érkezett meg", name="Gábor")
    detected = await visitor_writes(client, other_inbox, "Kérem, küldjék a számlát időben", name="Győző")
    albanian = await visitor_writes(client, other_inbox, "Porosia ime nuk ka mbërritur ende", name="Arben")
    english = await visitor_writes(client, other_inbox, "My parcels & boxes never arrived, parcels!", name="Sam")
    for written in (greek, hungarian, detected, albanian, english):
        await stored(client, tenant, written["conversation_id"], 1)

    async def search(**params: Any) -> dict[str, Any]:
        response = await client.get("/api/v1/search", params=params, headers=tenant.headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    # Each message was indexed with its language's dictionary: inflected forms find it.
    hit = (await search(q="επιστροφής"))["messages"]["items"]
    assert [h["conversation_id"] for h in hit] == [greek["conversation_id"]] and hit[0]["language"] == "el"
    assert hit[0]["highlight"].count("<mark>") == 1 and "επιστροφή" in hit[0]["snippet"]
    assert [h["language"] for h in (await search(q="csomagot"))["messages"]["items"]] == ["hu"]
    assert [h["conversation_id"] for h in (await search(q="számla"))["messages"]["items"]] == [
        detected["conversation_id"]
    ]
    albanian_hit = (await search(q="mbërritur"))["messages"]["items"]
    assert [(h["conversation_id"], h["language"]) for h in albanian_hit] == [(albanian["conversation_id"], "sq")]
    english_hit = (await search(q="parcel"))["messages"]["items"]
    assert [h["conversation_id"] for h in english_hit] == [english["conversation_id"]]
    # The highlight is safe HTML: the customer's text is escaped, only <mark> is ours.
    assert english_hit[0]["highlight"] == "My <mark>parcels</mark> &amp; boxes never arrived, <mark>parcels</mark>!"
    # Contacts by name; filters; pages.
    assert [c["name"] for c in (await search(q="Gábor"))["contacts"]["items"]] == ["Gábor"]
    assert (await search(q="επιστροφής", inbox_id=other_inbox["id"]))["messages"]["total"] == 0
    assert (await search(q="parcel", status="resolved"))["messages"]["total"] == 0
    assert (await search(q="parcel", status="all"))["messages"]["total"] == 1
    assert (await search(q="parcel", until="2000-01-01T00:00:00Z"))["messages"]["total"] == 0
    assert (await search(q="parcel", assignee="unassigned", status="queued"))["messages"]["total"] == 1
    await client.post("/api/v1/labels", json={"name": "billing"}, headers=tenant.headers)
    await client.put(
        f"/api/v1/conversations/{greek['conversation_id']}/labels", json={"labels": ["billing"]}, headers=tenant.headers
    )
    assert (await search(q="επιστροφής", label="billing"))["messages"]["total"] == 1
    assert (await search(q="parcel", label="billing"))["messages"]["total"] == 0
    # Ranked: the message saying it twice first; paged one per page.
    await visitor_writes(client, other_inbox, "one parcel", name="Pat")
    await eventually(lambda: _total(client, tenant, "parcel", 2))
    first = await search(q="parcel", per_page=1, page=1)
    second = await search(q="parcel", per_page=1, page=2)
    assert (
        first["messages"]["total"] == 2
        and first["messages"]["items"][0]["conversation_id"] == english["conversation_id"]
    )
    assert second["messages"]["items"][0]["conversation_id"] != english["conversation_id"]
    assert first["messages"]["items"][0]["rank"] > second["messages"]["items"][0]["rank"]
    # Another account finds nothing of it; bad queries are a 422.
    other = await signup(client)
    empty = (await client.get("/api/v1/search?q=parcel", headers=other.headers)).json()
    assert empty["messages"]["total"] == 0 and empty["contacts"]["total"] == 0
    assert (await client.get("/api/v1/search?q=", headers=tenant.headers)).status_code == 422
    assert (await client.get("/api/v1/search?q=x&assignee=bob", headers=tenant.headers)).status_code == 422


async def _total(client: httpx.AsyncClient, tenant: Tenant, q: str, count: int) -> bool:
    response = await client.get("/api/v1/search", params={"q": q}, headers=tenant.headers)
    return bool(response.json()["messages"]["total"] >= count)


async def test_assigned_visibility_hides_colleagues_conversations_everywhere(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    assert (await client.get("/api/v1/account/visibility", headers=tenant.headers)).json() == {"agents_see": "all"}
    a_id, a_token, a_socket = await online_agent(client, server, tenant)
    refused = await client.put("/api/v1/account/visibility", json={"agents_see": "assigned"}, headers=bearer(a_token))
    assert refused.status_code == 403
    invalid = await client.put("/api/v1/account/visibility", json={"agents_see": "some"}, headers=tenant.headers)
    assert invalid.status_code == 422
    put = await client.put("/api/v1/account/visibility", json={"agents_see": "assigned"}, headers=tenant.headers)
    assert put.status_code == 200 and put.json() == {"agents_see": "assigned"}
    mine = await visitor_writes(client, inbox, "for agent a: zebra")
    await a_socket.wait_for(lambda f: f["type"] == "conversation.assigned")
    await client.put("/api/v1/presence", json={"status": "away"}, headers=bearer(a_token))
    b_id, b_token, b_socket = await online_agent(client, server, tenant)
    try:
        theirs = await visitor_writes(client, inbox, "for agent b: zebra", name="Bo")
        cid = theirs["conversation_id"]
        await b_socket.wait_for(lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == cid)
        await stored(client, tenant, cid, 1)
        # Agent A: a 404 for B's conversation on every read and action, as for an id that does not exist.
        for method, path, body in (
            ("GET", f"/api/v1/conversations/{cid}", None),
            ("GET", f"/api/v1/conversations/{cid}/messages", None),
            ("POST", f"/api/v1/conversations/{cid}/messages", {"text": "hi"}),
            ("POST", f"/api/v1/conversations/{cid}/messages", {"text": "psst", "private": True}),
            ("POST", f"/api/v1/conversations/{cid}/read", None),
            ("PUT", f"/api/v1/conversations/{cid}/labels", {"labels": []}),
            ("POST", f"/api/v1/conversations/{cid}/resolve", None),
            ("POST", f"/api/v1/conversations/{cid}/assign", {"agent_id": a_id}),
            ("GET", f"/api/v1/contacts/{theirs['contact_id']}", None),
            ("GET", f"/api/v1/contacts/{theirs['contact_id']}/notes", None),
            ("GET", f"/api/v1/canned-responses?conversation_id={cid}", None),
        ):
            response = await client.request(method, path, json=body, headers=bearer(a_token))
            assert response.status_code == 404, (method, path, response.status_code, response.text)
        listed = (await client.get("/api/v1/conversations?status=all", headers=bearer(a_token))).json()
        assert [c["id"] for c in listed] == [mine["conversation_id"]]
        found = (await client.get("/api/v1/search?q=zebra", headers=bearer(a_token))).json()
        assert [h["conversation_id"] for h in found["messages"]["items"]] == [mine["conversation_id"]]
        assert found["contacts"]["total"] == 0  # Bo is not A's contact
        # B and the owner still see it.
        assert (await client.get(f"/api/v1/conversations/{cid}", headers=bearer(b_token))).status_code == 200
        everything = (await client.get("/api/v1/search?q=zebra", headers=tenant.headers)).json()
        assert everything["messages"]["total"] == 2
        # On the socket: B's resolve is announced to B (and admins), never to A.
        resolved = await client.post(f"/api/v1/conversations/{cid}/resolve", headers=bearer(b_token))
        assert resolved.status_code == 200
        await b_socket.wait_for(
            lambda f: f["type"] == "conversation.updated" and f["conversation_id"] == cid and f["status"] == "resolved"
        )
        note = await client.post(
            f"/api/v1/conversations/{mine['conversation_id']}/messages",
            json={"text": "marker after the resolve", "private": True},
            headers=bearer(a_token),
        )
        assert note.status_code == 201
        await a_socket.wait_for(lambda f: f["type"] == "note.created")
        assert not [f for f in a_socket.frames if f.get("conversation_id") == cid]
        assert not [f for f in b_socket.frames if f.get("type") == "note.created"]
        # Team: agents of one team see each other's conversations; back to all: everything.
        team = (await client.post("/api/v1/teams", json={"name": "Tier 1"}, headers=tenant.headers)).json()
        for member in (a_id, b_id):
            assert (
                await client.put(f"/api/v1/teams/{team['id']}/members/{member}", headers=tenant.headers)
            ).status_code in (200, 204)
        await client.put("/api/v1/account/visibility", json={"agents_see": "team"}, headers=tenant.headers)
        assert (await client.get(f"/api/v1/conversations/{cid}", headers=bearer(a_token))).status_code == 200
        _, c_token = await create_agent(client, tenant)
        assert (await client.get(f"/api/v1/conversations/{cid}", headers=bearer(c_token))).status_code == 404
        await client.put("/api/v1/account/visibility", json={"agents_see": "all"}, headers=tenant.headers)
        assert (await client.get(f"/api/v1/conversations/{cid}", headers=bearer(c_token))).status_code == 200
    finally:
        await a_socket.close()
        await b_socket.close()


async def test_contact_notes_and_attributes(client: httpx.AsyncClient, server: LiveServer) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    written = await visitor_writes(client, inbox, "hello", name="Mira")
    contact_id = written["contact_id"]
    _, agent_token = await create_agent(client, tenant)
    patched = await client.patch(
        f"/api/v1/contacts/{contact_id}",
        json={"custom_attributes": {"plan": "pro", "order_number": "A-1234", "seats": 12}},
        headers=bearer(agent_token),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["custom_attributes"] == {"plan": "pro", "order_number": "A-1234", "seats": 12}
    removed = await client.patch(
        f"/api/v1/contacts/{contact_id}", json={"custom_attributes": {"plan": None}}, headers=tenant.headers
    )
    assert removed.json()["custom_attributes"] == {"order_number": "A-1234", "seats": 12}
    for bad in ({"custom_attributes": {"bad key": 1}}, {"custom_attributes": {"x": {"nested": 1}}}, {"name": "x"}):
        response = await client.patch(f"/api/v1/contacts/{contact_id}", json=bad, headers=tenant.headers)
        assert response.status_code == 422, bad
    first = await client.post(
        f"/api/v1/contacts/{contact_id}/notes", json={"text": "VIP since 2019"}, headers=tenant.headers
    )
    second = await client.post(
        f"/api/v1/contacts/{contact_id}/notes", json={"text": "Call before noon"}, headers=bearer(agent_token)
    )
    assert first.status_code == 201 and second.status_code == 201
    notes = (await client.get(f"/api/v1/contacts/{contact_id}/notes", headers=tenant.headers)).json()
    assert [n["text"] for n in notes] == ["Call before noon", "VIP since 2019"]
    # Only its author or an admin deletes a note.
    forbidden = await client.delete(
        f"/api/v1/contacts/{contact_id}/notes/{first.json()['id']}", headers=bearer(agent_token)
    )
    assert forbidden.status_code == 403
    assert (
        await client.delete(f"/api/v1/contacts/{contact_id}/notes/{second.json()['id']}", headers=bearer(agent_token))
    ).status_code == 204
    # Found by an attribute's value; invisible to another account.
    found = (await client.get("/api/v1/search?q=A-1234&type=contacts", headers=tenant.headers)).json()
    assert [c["contact_id"] for c in found["contacts"]["items"]] == [contact_id]
    other = await signup(client)
    assert (await client.get(f"/api/v1/contacts/{contact_id}/notes", headers=other.headers)).status_code == 404
