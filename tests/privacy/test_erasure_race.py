"""Erasure against the subject's own late messages: a message published for the subject after the Kafka step
destroyed their keys (by a replica whose key cache is cold, so it asks the database for the key) must not get a
fresh readable key, and an attachment stored after the attachments step must still go. The forensic scan after
the request finds none of it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.domain.encryption.shredding import subject_keys_of
from switchboard_devstack.servers import StackUrls

from tests.helpers.api import Socket, create_agent, create_web_inbox, eventually, signup, visitor_session
from tests.helpers.live import LiveServer, live_server
from tests.helpers.scan import scan_directory, scan_kafka

# The Kafka step waits this long after destroying keys (no reader may still cache one): the window the late
# message is sent in.
KEY_CACHE_SECONDS = "3"


@pytest.fixture(scope="module")
async def system(stack_urls: StackUrls, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    async with live_server(
        stack_urls,
        DATA_DIR=str(tmp_path_factory.mktemp("race-data")),
        SUBJECT_KEY_CACHE_SECONDS=KEY_CACHE_SECONDS,
        PRIVACY_WORKER_INTERVAL_SECONDS="0.2",
        PRIVACY_RETRY_BASE_SECONDS="0.2",
    ) as live:
        yield live


async def test_messages_and_files_arriving_during_the_erasure_leave_no_trace(system: LiveServer) -> None:
    tag = uuid.uuid4().hex[:12]
    late_text, late_reply = f"late secret {tag}", f"late agent reply {tag}"
    late_file = f"LATE ATTACHMENT {tag}".encode()
    privacy = system.resources("privacy")
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        inbox = await create_web_inbox(client, tenant)
        _, agent_token = await create_agent(client, tenant)
        agent = await Socket.open(f"{system.ws_url}/api/v1/ws?token={agent_token}")
        visitor = await visitor_session(
            client, inbox["widget_token"], name=f"Late{tag}", email=f"late{tag}@example.org"
        )
        contact_id = visitor["contact_id"]
        visitor_headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
        first = await client.post("/api/v1/widget/messages", json={"text": f"first {tag}"}, headers=visitor_headers)
        assert first.status_code == 202, first.text
        assigned = await agent.wait_for(
            lambda f: f["type"] == "conversation.assigned" and f["conversation"]["contact_id"] == contact_id
        )
        conversation_id = assigned["conversation"]["id"]
        conversation_key = f"conversation:{conversation_id}"  # what seals the conversation's texts

        async def live_key() -> bool:
            async with cross_tenant_session(privacy.sessionmaker) as session:
                count = await session.scalar(
                    text("SELECT count(*) FROM subject_keys WHERE ref = :r AND key_encrypted IS NOT NULL"),
                    {"r": conversation_key},
                )
            return count == 1

        await eventually(live_key, timeout=60, interval=0.1)

        created = await client.post(
            "/api/v1/privacy/requests",
            json={"type": "erasure", "subject": {"contact_id": contact_id}},
            headers=tenant.headers,
        )
        assert created.status_code == 202, created.text
        request_id = created.json()["id"]
        approved = await client.post(f"/api/v1/privacy/requests/{request_id}/approve", headers=tenant.headers)
        assert approved.status_code == 200, approved.text

        async def key_destroyed() -> bool:
            return not await live_key()

        await eventually(key_destroyed, timeout=60, interval=0.05)
        # The Kafka step is done; the final step has not run. Replicas that never held the subject's key (fresh
        # caches) publish for them now, and a file for them is stored after the attachments step.
        for app in system.apps.values():
            res = getattr(app.state, "resources", None)
            if res is not None and getattr(res, "bus", None) is not None:
                subject_keys_of(res.bus).forget_all()
        late = await client.post("/api/v1/widget/messages", json={"text": late_text}, headers=visitor_headers)
        assert late.status_code == 202, late.text
        reply = await client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"text": late_reply},
            headers={"Authorization": f"Bearer {agent_token}"},
        )
        assert reply.status_code == 201, reply.text
        await privacy.attachments.put(uuid.UUID(tenant.account_id), uuid.UUID(contact_id), late_file)

        async def completed() -> dict[str, Any] | None:
            body = (await client.get(f"/api/v1/privacy/requests/{request_id}", headers=tenant.headers)).json()
            assert body["status"] not in ("failed",), body
            return body if body["status"] == "completed" else None

        done = await eventually(completed, timeout=60, interval=0.1)
        await agent.close()

    kafka = await scan_kafka(system.settings(), system.env["DATABASE_URL"])
    assert f"first {tag}" not in kafka
    assert late_text not in kafka and late_reply not in kafka, "a message published during the erasure is readable"
    files = scan_directory(Path(system.env["DATA_DIR"]))
    assert late_file.decode() not in files and contact_id not in files
    assert done["progress"]["postgres"]["counts"]["late_files"] == 1
    async with cross_tenant_session(privacy.sessionmaker) as session:
        left = await session.scalar(
            text("SELECT count(*) FROM subject_keys WHERE position(:c in ref) > 0 OR position(:v in ref) > 0"),
            {"c": contact_id, "v": conversation_id},
        )
    assert left == 0, "the fences go with the request (they name the erased contact)"
