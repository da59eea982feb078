"""The routing API end to end (real HTTP and sockets, real servers): agents' capacity, skills and teams;
teams; inbox and account routing settings; the queue; conversation actions; offers; timers driven with an
injected clock; presence grace period; business hours."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import httpx
from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.runtime import Resources
from switchboard_router.timers import run_due_presence, run_due_timers

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


async def visitor_writes(client: httpx.AsyncClient, inbox: dict[str, Any], text: str = "hello") -> dict[str, Any]:
    session = await visitor_session(client, inbox["widget_token"])
    response = await client.post(
        "/api/v1/widget/messages",
        json={"text": text},
        headers={"Authorization": f"Bearer {session['visitor_token']}"},
    )
    assert response.status_code == 202, response.text
    return {**session, **response.json()}


async def conversation(client: httpx.AsyncClient, tenant: Tenant, conversation_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def put_routing(client: httpx.AsyncClient, tenant: Tenant, inbox_id: str, **settings: Any) -> dict[str, Any]:
    response = await client.put(f"/api/v1/inboxes/{inbox_id}/routing", json=settings, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_agents_teams_and_routing_settings(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    team = await client.post(
        "/api/v1/teams", json={"name": "Billing", "strategy": "round_robin"}, headers=tenant.headers
    )
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    assert (await client.post("/api/v1/teams", json={"name": "Billing"}, headers=tenant.headers)).status_code == 409
    agent_id, agent_token = await create_agent(client, tenant)

    patched = await client.patch(
        f"/api/v1/agents/{agent_id}",
        json={"max_conversations": 2, "skills": ["fr", "billing"], "teams": [team_id]},
        headers=tenant.headers,
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["max_conversations"] == 2
    assert body["skills"] == ["billing", "fr"]
    assert body["teams"] == [team_id]
    missing = await client.patch(
        f"/api/v1/agents/{agent_id}", json={"teams": ["00000000-0000-0000-0000-000000000000"]}, headers=tenant.headers
    )
    assert missing.status_code == 404
    assert (
        await client.patch(f"/api/v1/agents/{agent_id}", json={"skills": [""]}, headers=tenant.headers)
    ).status_code == 422
    forbidden = await client.patch(
        f"/api/v1/agents/{agent_id}", json={"max_conversations": 9}, headers={"Authorization": f"Bearer {agent_token}"}
    )
    assert forbidden.status_code == 403

    got = (await client.get(f"/api/v1/teams/{team_id}", headers=tenant.headers)).json()
    assert got["members"] == [agent_id] and got["strategy"] == "round_robin"
    removed = await client.delete(f"/api/v1/teams/{team_id}/members/{agent_id}", headers=tenant.headers)
    assert removed.json()["members"] == []
    added = await client.put(f"/api/v1/teams/{team_id}/members/{agent_id}", headers=tenant.headers)
    assert added.json()["members"] == [agent_id]
    renamed = await client.patch(f"/api/v1/teams/{team_id}", json={"name": "Money"}, headers=tenant.headers)
    assert renamed.json()["name"] == "Money"
    assert [t["name"] for t in (await client.get("/api/v1/teams", headers=tenant.headers)).json()] == ["Money"]
    other = await signup(client)
    assert (await client.get(f"/api/v1/teams/{team_id}", headers=other.headers)).status_code == 404

    inbox = await create_web_inbox(client, tenant)
    defaults = (await client.get(f"/api/v1/inboxes/{inbox['id']}/routing", headers=tenant.headers)).json()
    assert defaults["strategy"] == "least_busy" and defaults["offer_timeout_seconds"] == 0
    updated = await put_routing(
        client,
        tenant,
        inbox["id"],
        strategy="sticky",
        team_id=team_id,
        business_hours={"timezone": "Europe/Paris", "weekly": {"mon": [["09:00", "17:00"]]}},
    )
    assert updated["strategy"] == "sticky" and updated["team_id"] == team_id
    for bad in (
        {"strategy": "random"},
        {"business_hours": {"timezone": "Mars/Olympus", "weekly": {}}},
        {"business_hours": {"weekly": {"mon": [["17:00", "9:00"]]}}},
        {"unknown": 1},
    ):
        response = await client.put(f"/api/v1/inboxes/{inbox['id']}/routing", json=bad, headers=tenant.headers)
        assert response.status_code == 422, bad
        assert "error" in response.json()

    account = await client.put(
        "/api/v1/routing/settings",
        json={"channel_weights": {"messenger": 0.5}, "grace_seconds": 10, "default_max_conversations": 3},
        headers=tenant.headers,
    )
    assert account.status_code == 200, account.text
    assert account.json()["channel_weights"] == {"messenger": 0.5}
    assert account.json()["default_max_conversations"] == 3
    assert (await client.delete(f"/api/v1/teams/{team_id}", headers=tenant.headers)).status_code == 204


async def test_capacity_queue_and_lifecycle_actions(client: httpx.AsyncClient, server: LiveServer) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    agent_a, token_a, socket_a = await online_agent(client, server, tenant, max_conversations=1)
    try:
        first = await visitor_writes(client, inbox)
        assigned = await socket_a.wait_for(
            lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == first["conversation_id"]
        )
        assert assigned["agent_id"] == agent_a
        got = await conversation(client, tenant, first["conversation_id"])
        assert {"id", "status", "assignee_id", "inbox_id", "contact_id"} <= set(got)
        assert got["assignee_id"] == agent_a and got["status"] == "open"
        assert got["routing_explanation"]["strategy"] == "least_busy"

        # Agent A is full: the second conversation waits, with a position, in the queue listing too.
        second = await visitor_writes(client, inbox)
        queued = await eventually(
            lambda: _queued(client, tenant, second["conversation_id"]),
        )
        assert queued["queue_position"] == 1 and queued.get("assignee_id") is None
        listing = (await client.get("/api/v1/queue", headers=tenant.headers)).json()
        assert [(e["conversation_id"], e["position"]) for e in listing] == [(second["conversation_id"], 1)]
        listed = (await client.get("/api/v1/conversations?status=queued", headers=tenant.headers)).json()
        assert listed[0]["queue_position"] == 1

        # Assigning over capacity is refused; resolving frees the slot and the queue drains.
        over = await client.post(
            f"/api/v1/conversations/{second['conversation_id']}/assign",
            json={"agent_id": agent_a},
            headers=tenant.headers,
        )
        assert over.status_code == 409 and over.json()["error"]["code"] == "agent_at_capacity"
        resolved = await client.post(
            f"/api/v1/conversations/{first['conversation_id']}/resolve", headers=tenant.headers
        )
        assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
        await socket_a.wait_for(
            lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == second["conversation_id"]
        )

        # Transfer to B with a note: B is told, A is told it left.
        agent_b, token_b, socket_b = await online_agent(client, server, tenant)
        try:
            moved = await client.post(
                f"/api/v1/conversations/{second['conversation_id']}/transfer",
                json={"agent_id": agent_b, "note": "billing question"},
                headers={"Authorization": f"Bearer {token_a}"},
            )
            assert moved.status_code == 200, moved.text
            assert moved.json()["assignee_id"] == agent_b
            await socket_b.wait_for(
                lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == second["conversation_id"]
            )
            await socket_a.wait_for(
                lambda f: f["type"] == "conversation.unassigned" and f["conversation_id"] == second["conversation_id"]
            )
            bad = await client.post(
                f"/api/v1/conversations/{second['conversation_id']}/transfer", json={}, headers=tenant.headers
            )
            assert bad.status_code == 422

            # Snooze, then the clock passes the wake-up time: open again, still B's.
            until = (utcnow() + timedelta(hours=1)).isoformat()
            snoozed = await client.post(
                f"/api/v1/conversations/{second['conversation_id']}/snooze",
                json={"until": until},
                headers={"Authorization": f"Bearer {token_b}"},
            )
            assert snoozed.status_code == 200 and snoozed.json()["status"] == "snoozed"
            past = await client.post(
                f"/api/v1/conversations/{second['conversation_id']}/snooze",
                json={"until": "2000-01-01T00:00:00Z"},
                headers=tenant.headers,
            )
            # Well formed, but the time has passed: a conflict with the present, which a schema cannot state.
            assert past.status_code == 409 and past.json()["error"]["code"] == "invalid_snooze"
            await run_due_timers(server.resources("router"), utcnow() + timedelta(hours=2))
            woken = await conversation(client, tenant, second["conversation_id"])
            assert woken["status"] == "open" and woken["assignee_id"] == agent_b

            # Unassign: back to routing, which picks an agent with room (A is free again).
            unassigned = await client.post(
                f"/api/v1/conversations/{second['conversation_id']}/unassign", headers=tenant.headers
            )
            assert unassigned.status_code == 200
            await eventually(
                lambda: _assignee_in(client, tenant, second["conversation_id"], {agent_a, agent_b}),
            )
            reopened = await client.post(
                f"/api/v1/conversations/{first['conversation_id']}/reopen", headers=tenant.headers
            )
            assert reopened.status_code == 200 and reopened.json()["status"] == "open"
            missing = await client.post(
                "/api/v1/conversations/00000000-0000-0000-0000-000000000000/resolve", headers=tenant.headers
            )
            assert missing.status_code == 404
        finally:
            await socket_b.close()
    finally:
        await socket_a.close()


async def _queued(client: httpx.AsyncClient, tenant: Tenant, conversation_id: str) -> dict[str, Any] | None:
    got = await conversation(client, tenant, conversation_id)
    return got if got.get("queue_position") else None


async def _assignee_in(client: httpx.AsyncClient, tenant: Tenant, conversation_id: str, agents: set[str]) -> bool:
    return (await conversation(client, tenant, conversation_id)).get("assignee_id") in agents


async def test_manual_mode_claim_race_has_one_winner_and_visitor_sees_position(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    await put_routing(client, tenant, inbox["id"], strategy="manual")
    agents = [await online_agent(client, server, tenant) for _ in range(3)]
    try:
        written = await visitor_writes(client, inbox)
        visitor = await Socket.open(f"{server.ws_url}/api/v1/widget/ws?token={written['visitor_token']}")
        try:
            frame = await visitor.wait_for(lambda f: f.get("type") == "queue.position")
            assert frame["position"] == 1 and frame["estimated_wait_seconds"] > 0
        finally:
            await visitor.close()
        got = await conversation(client, tenant, written["conversation_id"])
        assert got["queue_position"] == 1
        claims = await asyncio.gather(
            *[
                client.post(
                    f"/api/v1/conversations/{written['conversation_id']}/claim",
                    headers={"Authorization": f"Bearer {token}"},
                )
                for _, token, _ in agents
            ]
        )
        codes = sorted(r.status_code for r in claims)
        assert codes == [200, 409, 409], [r.text for r in claims]
        winner = next(r for r in claims if r.status_code == 200).json()["assignee_id"]
        assert (await conversation(client, tenant, written["conversation_id"]))["assignee_id"] == winner
    finally:
        for _, _, socket in agents:
            await socket.close()


async def test_offers_reject_accept_and_missed(client: httpx.AsyncClient, server: LiveServer) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    await put_routing(client, tenant, inbox["id"], offer_timeout_seconds=600)
    a = await online_agent(client, server, tenant)
    b = await online_agent(client, server, tenant)
    sockets = {a[0]: a, b[0]: b}
    try:
        written = await visitor_writes(client, inbox)
        cid = written["conversation_id"]

        async def offered_to() -> str | None:
            for agent_id, (_, _, socket) in sockets.items():
                if any(f["type"] == "conversation.offered" and f["conversation_id"] == cid for f in socket.frames):
                    return agent_id
            return None

        first = await eventually(offered_to)
        first_token = sockets[first][1]
        second = next(agent for agent in sockets if agent != first)
        rejected = await client.post(
            f"/api/v1/conversations/{cid}/reject", headers={"Authorization": f"Bearer {first_token}"}
        )
        assert rejected.status_code == 200, rejected.text
        await sockets[second][2].wait_for(lambda f: f["type"] == "conversation.offered" and f["conversation_id"] == cid)
        # The offer to the second agent expires (clock driven): it goes on, and the miss is counted.
        await run_due_timers(server.resources("router"), utcnow() + timedelta(hours=1))
        await eventually(lambda: _history_has(server.resources("router"), cid, "offer_missed"))
        offered_now = await eventually(lambda: _current_offer(server.resources("router"), cid))
        explanation = await eventually(lambda: _offered_again(client, tenant, cid))
        assert explanation["strategy"] == "least_busy"
        token = sockets[str(offered_now)][1]
        accepted = await client.post(
            f"/api/v1/conversations/{cid}/accept", headers={"Authorization": f"Bearer {token}"}
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["assignee_id"] == str(offered_now)
        again = await client.post(f"/api/v1/conversations/{cid}/accept", headers={"Authorization": f"Bearer {token}"})
        assert again.status_code == 409
        history = await _history(server.resources("router"), cid)
        assert history.count("offer_rejected") == 1 and history.count("offer_missed") == 1
    finally:
        for _, _, socket in sockets.values():
            await socket.close()


async def _offered_again(client: httpx.AsyncClient, tenant: Tenant, cid: str) -> dict[str, Any] | None:
    got = await conversation(client, tenant, cid)
    explanation = got.get("routing_explanation") or {}
    return explanation if explanation.get("outcome") == "offered" and got.get("assignee_id") is None else None


async def _current_offer(res: Resources, cid: str) -> Any:
    import uuid

    from sqlalchemy import select
    from switchboard_common.domain.conversations.models import RoutingTimer

    async with cross_tenant_session(res.sessionmaker) as session:
        return await session.scalar(
            select(RoutingTimer.agent_id).where(
                RoutingTimer.conversation_id == uuid.UUID(cid), RoutingTimer.kind == "offer"
            )
        )


async def _history_has(res: Resources, cid: str, action: str) -> bool:
    return action in await _history(res, cid)


async def _history(res: Resources, cid: str) -> list[str]:
    import uuid

    from sqlalchemy import select
    from switchboard_common.domain.conversations.models import RoutingHistory

    async with cross_tenant_session(res.sessionmaker) as session:
        rows = await session.scalars(
            select(RoutingHistory.action)
            .where(RoutingHistory.conversation_id == uuid.UUID(cid))
            .order_by(RoutingHistory.id)
        )
        return list(rows.all())


async def test_no_reply_reassigns_and_auto_resolve_and_escalation(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    await put_routing(client, tenant, inbox["id"], first_response_seconds=60, auto_resolve_seconds=600)
    a = await online_agent(client, server, tenant)
    try:
        written = await visitor_writes(client, inbox)
        cid = written["conversation_id"]
        await a[2].wait_for(lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == cid)
        b = await online_agent(client, server, tenant)
        try:
            await run_due_timers(server.resources("router"), utcnow() + timedelta(seconds=120))
            await b[2].wait_for(lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == cid)
            assert "no_reply" in await _history(server.resources("router"), cid)
            # B answers: no further no-reply; long inactivity resolves it.
            reply = await client.post(
                f"/api/v1/conversations/{cid}/messages",
                json={"text": "hi"},
                headers={"Authorization": f"Bearer {b[1]}"},
            )
            assert reply.status_code == 201
            # The router saw the reply (its no-reply timer is gone, the inactivity timer restarted with it).
            await eventually(lambda: _no_timer(server.resources("router"), cid, "no_reply"))
            assert await _has_timer(server.resources("router"), cid, "auto_resolve")
            await run_due_timers(server.resources("router"), utcnow() + timedelta(hours=2))
            assert (await conversation(client, tenant, cid))["status"] == "resolved"
        finally:
            await b[2].close()
    finally:
        await a[2].close()

    # Escalation: nobody online, the waiting conversation's priority rises past the threshold.
    other = await signup(client)
    inbox2 = await create_web_inbox(client, other)
    await put_routing(client, other, inbox2["id"], escalation_seconds=60)
    waiting = await visitor_writes(client, inbox2)
    await eventually(lambda: _queued(client, other, waiting["conversation_id"]))
    await eventually(lambda: _has_timer(server.resources("router"), waiting["conversation_id"], "escalate"))
    await run_due_timers(server.resources("router"), utcnow() + timedelta(seconds=120))
    assert (await conversation(client, other, waiting["conversation_id"]))["priority"] == 1


async def _no_timer(res: Resources, cid: str, kind: str) -> bool:
    return not await _has_timer(res, cid, kind)


async def _has_timer(res: Resources, cid: str, kind: str) -> bool:
    import uuid

    from sqlalchemy import select
    from switchboard_common.domain.conversations.models import RoutingTimer

    async with cross_tenant_session(res.sessionmaker) as session:
        found = await session.scalar(
            select(RoutingTimer.id).where(RoutingTimer.conversation_id == uuid.UUID(cid), RoutingTimer.kind == kind)
        )
    return found is not None


async def test_business_hours_reply_and_wait(client: httpx.AsyncClient, server: LiveServer) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    await put_routing(
        client,
        tenant,
        inbox["id"],
        business_hours={"timezone": "UTC", "weekly": {}},
        out_of_hours_message="We are closed.",
    )
    agent = await online_agent(client, server, tenant)
    try:
        written = await visitor_writes(client, inbox)
        cid = written["conversation_id"]
        queued = await eventually(lambda: _queued(client, tenant, cid))
        assert queued.get("assignee_id") is None

        async def system_reply() -> bool:
            messages = (await client.get(f"/api/v1/conversations/{cid}/messages", headers=tenant.headers)).json()
            return any(m["sender_type"] == "system" and m["text"] == "We are closed." for m in messages)

        await eventually(system_reply)
        # Opening the inbox: the periodic drain serves it.
        await put_routing(client, tenant, inbox["id"], business_hours=None)
        await agent[2].wait_for(lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == cid)
    finally:
        await agent[2].close()


async def test_grace_period_then_give_back(client: httpx.AsyncClient, server: LiveServer) -> None:
    tenant = await signup(client)
    await client.put("/api/v1/routing/settings", json={"grace_seconds": 600}, headers=tenant.headers)
    inbox = await create_web_inbox(client, tenant)
    a_id, a_token, a_socket = await online_agent(client, server, tenant)
    written = await visitor_writes(client, inbox)
    cid = written["conversation_id"]
    await a_socket.wait_for(lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == cid)
    await a_socket.close()
    res = server.resources("router")
    # A dropped socket is not a logout: still "online" during the grace period; a reconnect cancels it.
    agent = (await client.get(f"/api/v1/agents/{a_id}", headers=tenant.headers)).json()
    assert agent["status"] == "online"
    again = await Socket.open(f"{server.ws_url}/api/v1/ws?token={a_token}")
    await again.wait_for(lambda f: f["type"] == "session.ready")
    await again.close()
    b_id, _, b_socket = await online_agent(client, server, tenant)
    try:
        await run_due_presence(res, time.time() + 3600)
        agent = (await client.get(f"/api/v1/agents/{a_id}", headers=tenant.headers)).json()
        assert agent["status"] == "offline"
        await b_socket.wait_for(lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == cid)
        assert (await conversation(client, tenant, cid))["assignee_id"] == b_id
    finally:
        await b_socket.close()
