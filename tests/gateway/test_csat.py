"""Satisfaction survey in the widget: resolving asks the visitor on their socket (csat.request), the answer
is idempotent, the last one within a day wins, and the conversation object carries it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.domain.csat.models import CsatSurvey
from switchboard_devstack.servers import StackUrls

from tests.fakes.receivers import Receiver
from tests.helpers.api import Socket, create_web_inbox, eventually, online_agent, signup, visitor_session
from tests.helpers.live import LiveServer, live_server


@pytest.fixture(scope="module")
async def system(stack_urls: StackUrls) -> AsyncIterator[LiveServer]:
    async with live_server(stack_urls, OUTBOUND_ALLOW_PRIVATE="true") as live:
        yield live


async def test_widget_survey_after_resolve(system: LiveServer) -> None:
    receiver = Receiver()
    await receiver.start()
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        inbox = await create_web_inbox(client, tenant)
        defaults = await client.get(f"/api/v1/inboxes/{inbox['id']}/csat", headers=tenant.headers)
        assert defaults.json()["enabled"] is False and defaults.json()["delay_minutes"] == 0
        configured = await client.put(
            f"/api/v1/inboxes/{inbox['id']}/csat",
            headers=tenant.headers,
            json={"enabled": True, "language": "el", "delay_minutes": 0},
        )
        assert configured.status_code == 200, configured.text
        assert configured.json()["effective_question"].startswith("Πώς")
        bad = await client.put(
            f"/api/v1/inboxes/{inbox['id']}/csat", headers=tenant.headers, json={"enabled": True, "language": "xx"}
        )
        assert bad.status_code == 422
        hook = await client.post(
            "/api/v1/webhooks",
            headers=tenant.headers,
            json={"url": receiver.url + "/csat", "events": ["conversation.csat_answered"]},
        )
        assert hook.status_code == 201
        _agent_id, agent_token, agent = await online_agent(client, system, tenant)
        visitor = await visitor_session(client, inbox["widget_token"])
        visitor_headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
        visitor_socket = await Socket.open(f"{system.ws_url}/api/v1/widget/ws?token={visitor['visitor_token']}")
        await visitor_socket.wait_for(lambda f: f["type"] == "session.ready")
        sent = await client.post("/api/v1/widget/messages", json={"text": "hi"}, headers=visitor_headers)
        conversation_id = sent.json()["conversation_id"]
        await agent.wait_for(lambda f: f["type"] == "conversation.assigned")

        early = await client.post(
            "/api/v1/widget/csat", json={"conversation_id": conversation_id, "rating": 5}, headers=visitor_headers
        )
        assert early.status_code == 409 and early.json()["error"]["code"] == "csat_not_requested"

        resolved = await client.post(
            f"/api/v1/conversations/{conversation_id}/resolve", headers={"Authorization": f"Bearer {agent_token}"}
        )
        assert resolved.status_code == 200
        request = await visitor_socket.wait_for(lambda f: f["type"] == "csat.request")
        assert request["conversation_id"] == conversation_id and request["ratings"] == [1, 2, 3, 4, 5]
        assert request["question"].startswith("Πώς")

        answer = {"conversation_id": conversation_id, "rating": 2, "comment": "slow"}
        first = await client.post("/api/v1/widget/csat", json=answer, headers=visitor_headers)
        assert first.status_code == 200, first.text
        again = await client.post("/api/v1/widget/csat", json=answer, headers=visitor_headers)
        assert again.status_code == 200 and again.json()["answered_at"] == first.json()["answered_at"]
        changed = await client.post(
            "/api/v1/widget/csat", json={"conversation_id": conversation_id, "rating": 4}, headers=visitor_headers
        )
        assert changed.status_code == 200 and changed.json()["rating"] == 4 and changed.json()["comment"] is None

        body = (await client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers)).json()
        assert body["csat"]["rating"] == 4 and body["csat"]["comment"] is None and body["csat"]["answered_at"]
        calls = await receiver.wait_for(2, "/csat")
        assert [c.json()["data"]["rating"] for c in calls] == [2, 4]  # the identical repeat sent nothing

        for wrong in ({"conversation_id": conversation_id, "rating": 6}, {"conversation_id": conversation_id}):
            assert (await client.post("/api/v1/widget/csat", json=wrong, headers=visitor_headers)).status_code == 422
        other = await visitor_session(client, inbox["widget_token"])
        stranger = await client.post(
            "/api/v1/widget/csat",
            json={"conversation_id": conversation_id, "rating": 1},
            headers={"Authorization": f"Bearer {other['visitor_token']}"},
        )
        assert stranger.status_code == 404
        unknown = await client.post(
            "/api/v1/widget/csat", json={"conversation_id": str(uuid.uuid4()), "rating": 1}, headers=visitor_headers
        )
        assert unknown.status_code == 404
        assert (await client.post("/api/v1/widget/csat", json=answer)).status_code == 401

        # A day after the question the answer stands.
        res = system.resources("gateway")
        async with cross_tenant_session(res.sessionmaker) as session, session.begin():
            await session.execute(
                update(CsatSurvey)
                .where(CsatSurvey.conversation_id == uuid.UUID(conversation_id))
                .values(sent_at=CsatSurvey.sent_at - timedelta(days=1, seconds=1))
            )
        late = await client.post("/api/v1/widget/csat", json=answer, headers=visitor_headers)
        assert late.status_code == 409 and late.json()["error"]["code"] == "csat_closed"
        for socket in (agent, visitor_socket):
            await socket.close()
    await receiver.stop()


async def test_no_survey_when_off_or_delayed(system: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        inbox = await create_web_inbox(client, tenant)
        await client.put(
            f"/api/v1/inboxes/{inbox['id']}/csat",
            headers=tenant.headers,
            json={"enabled": True, "delay_minutes": 30, "question": "Rate us?"},
        )
        _agent_id, agent_token, agent = await online_agent(client, system, tenant)
        visitor = await visitor_session(client, inbox["widget_token"])
        sent = await client.post(
            "/api/v1/widget/messages",
            json={"text": "hi"},
            headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
        )
        conversation_id = uuid.UUID(sent.json()["conversation_id"])
        await agent.wait_for(lambda f: f["type"] == "conversation.assigned")
        await client.post(
            f"/api/v1/conversations/{conversation_id}/resolve", headers={"Authorization": f"Bearer {agent_token}"}
        )
        res = system.resources("connectors")

        async def scheduled() -> CsatSurvey | None:
            async with cross_tenant_session(res.sessionmaker) as session:
                return await session.get(CsatSurvey, conversation_id)

        survey = await eventually(scheduled)
        assert survey.status == "scheduled" and survey.question == "Rate us?"
        assert timedelta(minutes=29) < survey.send_at - survey.created_at < timedelta(minutes=31)
        await agent.close()
