"""The scoped session is the one home of the tenant rule (docs/security.md): the handlers below write no account
filter of their own (tests/common/test_tenancy_rules.py keeps it so), and still a second account neither sees
nor changes the first one's labels, canned responses, SLA policies, CSAT settings, retention policies or privacy
audit entries. Ids that belong to another account answer 404, as if they did not exist."""

from __future__ import annotations

import uuid

import httpx

from tests.helpers.api import create_web_inbox, signup


async def test_another_accounts_rows_are_invisible_through_the_gateway(client: httpx.AsyncClient) -> None:
    owner, stranger = await signup(client), await signup(client)
    inbox = await create_web_inbox(client, owner)
    label = await client.post("/api/v1/labels", json={"name": "vip", "color": "#aa00aa"}, headers=owner.headers)
    canned = await client.post(
        "/api/v1/canned-responses", json={"short_code": "hi", "content": "Hello there"}, headers=owner.headers
    )
    policy = await client.post(
        "/api/v1/sla-policies",
        json={"name": "Chat", "first_response_seconds": 60, "inbox_ids": [inbox["id"]]},
        headers=owner.headers,
    )
    assert (label.status_code, canned.status_code, policy.status_code) == (201, 201, 201)

    for path in ("/api/v1/labels", "/api/v1/canned-responses", "/api/v1/sla-policies"):
        listed = await client.get(path, headers=stranger.headers)
        assert listed.status_code == 200 and listed.json() == [], (path, listed.text)
    for method, path, body in (
        ("PATCH", f"/api/v1/labels/{label.json()['id']}", {"color": "#000000"}),
        ("DELETE", f"/api/v1/labels/{label.json()['id']}", None),
        ("PATCH", f"/api/v1/canned-responses/{canned.json()['id']}", {"content": "mine now"}),
        ("DELETE", f"/api/v1/canned-responses/{canned.json()['id']}", None),
        ("GET", f"/api/v1/sla-policies/{policy.json()['id']}", None),
        ("DELETE", f"/api/v1/sla-policies/{policy.json()['id']}", None),
        ("GET", f"/api/v1/inboxes/{inbox['id']}/csat", None),
    ):
        answer = await client.request(method, path, json=body, headers=stranger.headers)
        assert answer.status_code == 404, (method, path, answer.text)

    # The stranger's own policy cannot point at the owner's inbox: it is unknown to them.
    foreign = await client.post(
        "/api/v1/sla-policies",
        json={"name": "Theirs", "first_response_seconds": 60, "inbox_ids": [inbox["id"]]},
        headers=stranger.headers,
    )
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "unknown_inbox", foreign.text

    # Nothing of the owner's changed, and a label of the same name is the stranger's own.
    assert [x["name"] for x in (await client.get("/api/v1/labels", headers=owner.headers)).json()] == ["vip"]
    assert (await client.get("/api/v1/canned-responses", headers=owner.headers)).json()[0]["content"] == "Hello there"
    mine = await client.post("/api/v1/labels", json={"name": "vip", "color": "#123456"}, headers=stranger.headers)
    assert mine.status_code == 201, mine.text
    assert uuid.UUID(mine.json()["id"]) != uuid.UUID(label.json()["id"])


async def test_another_accounts_retention_and_audit_are_invisible_through_privacy(client: httpx.AsyncClient) -> None:
    owner, stranger = await signup(client), await signup(client)
    put = await client.put("/api/v1/privacy/retention", json={"messages": 30}, headers=owner.headers)
    assert put.status_code == 200 and put.json() == {"messages": 30}, put.text

    assert (await client.get("/api/v1/privacy/retention", headers=stranger.headers)).json() == {}
    # Clearing "messages" clears the stranger's policy only (the DELETE carries no filter of its own).
    cleared = await client.put("/api/v1/privacy/retention", json={"messages": None}, headers=stranger.headers)
    assert cleared.status_code == 200 and cleared.json() == {}, cleared.text
    assert (await client.get("/api/v1/privacy/retention", headers=owner.headers)).json() == {"messages": 30}

    theirs = (await client.get("/api/v1/privacy/audit", headers=stranger.headers)).json()
    ours = (await client.get("/api/v1/privacy/audit", headers=owner.headers)).json()
    assert [e["details"] for e in ours if e["action"] == "retention.changed"] == [{"messages": 30}]
    assert not {e["id"] for e in ours} & {e["id"] for e in theirs}
    assert all(e["details"] != {"messages": 30} for e in theirs)
