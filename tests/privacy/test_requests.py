"""Data-subject requests: access export behind a signed link, rectification (in PostgreSQL and in the Kafka
copies, read back from the topics), validation, deadlines,
resumption after a store outage and after a crashed worker, retention sweeps with a dry run."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from switchboard_common.domain.accounts.tenancy import cross_tenant_session, tenant_session
from switchboard_common.domain.encryption.shredding import SubjectKeys
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.signing import signed_headers
from switchboard_devstack.servers import StackUrls
from switchboard_privacy.retention.sweep import sweep as retention_sweep

from tests.fakes.slack import FakeSlack
from tests.helpers.api import Socket, Tenant, create_agent, create_web_inbox, signup, visitor_session
from tests.helpers.live import LiveServer, live_server
from tests.helpers.privacy import wait_status
from tests.helpers.slack import new_team, slack_inbox


@pytest.fixture(scope="module")
async def system(
    stack_urls: StackUrls, fake_slack: FakeSlack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    async with live_server(
        stack_urls,
        DATA_DIR=str(tmp_path_factory.mktemp("privacy-requests")),
        SLACK_API_URL=fake_slack.url,
        SUBJECT_KEY_CACHE_SECONDS="0",
        PRIVACY_WORKER_INTERVAL_SECONDS="0.2",
        PRIVACY_RETRY_BASE_SECONDS="0.1",
        PRIVACY_EXPORT_LINK_SECONDS="120",
        RETENTION_BATCH_SIZE="2",
    ) as live:
        yield live


@pytest.fixture
async def client(system: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as http:
        yield http


async def customer(client: httpx.AsyncClient, tenant: Tenant, texts: list[str], **fields: Any) -> dict[str, Any]:
    inbox = await create_web_inbox(client, tenant)
    visitor = await visitor_session(client, inbox["widget_token"], **fields)
    for body in texts:
        sent = await client.post(
            "/api/v1/widget/messages",
            json={"text": body},
            headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
        )
        assert sent.status_code == 202, sent.text
    return {**visitor, "inbox": inbox}


async def stored_messages(system: LiveServer, contact_id: str, count: int) -> list[uuid.UUID]:
    """Waits until the timeline stored the contact's messages; returns their conversation ids."""
    for _ in range(150):
        async with cross_tenant_session(system.resources("privacy").sessionmaker) as session:
            rows = (
                await session.execute(
                    text(
                        "SELECT m.conversation_id FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                        "WHERE c.contact_id = :c"
                    ),
                    {"c": uuid.UUID(contact_id)},
                )
            ).all()
        if len(rows) >= count:
            return sorted({r[0] for r in rows})
        await asyncio.sleep(0.2)
    raise AssertionError("messages were not stored")


async def run_request(client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    created = await client.post("/api/v1/privacy/requests", json=body, headers=tenant.headers)
    assert created.status_code == 202, created.text
    request_id = created.json()["id"]
    approved = await client.post(f"/api/v1/privacy/requests/{request_id}/approve", headers=tenant.headers)
    assert approved.status_code == 200, approved.text
    return await wait_status(client, tenant, request_id, "completed")


async def test_access_export_is_a_zip_behind_an_expiring_link(client: httpx.AsyncClient, system: LiveServer) -> None:
    tenant = await signup(client)
    visitor = await customer(client, tenant, ["export me please"], name="Ada Export", email="ada.export@example.org")
    await stored_messages(system, visitor["contact_id"], 1)
    await system.resources("privacy").attachments.put(
        uuid.UUID(tenant.account_id), uuid.UUID(visitor["contact_id"]), b"%PDF attachment"
    )
    done = await run_request(client, tenant, {"type": "access", "subject": {"email": "ada.export@example.org"}})
    link = done["report"]["download"]["url"]
    archive = await client.get(link)
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        data = json.loads(zipped.read("data.json"))
        assert data["format"] == "switchboard.subject-export" and data["version"] == 1
        assert data["tables"]["contacts"][0]["email"] == "ada.export@example.org"
        assert [m["text"] for m in data["tables"]["messages"]] == ["export me please"]
        assert zipped.read(data["attachments"][0]) == b"%PDF attachment"
    tampered = link.replace("signature=", "signature=0")
    assert (await client.get(tampered)).status_code == 403
    expired = link.split("?")[0] + "?expires=1&signature=" + link.split("signature=")[1]
    assert (await client.get(expired)).status_code == 403


async def test_rectification_and_validation(client: httpx.AsyncClient, system: LiveServer) -> None:
    tenant = await signup(client)
    visitor = await customer(client, tenant, ["hello"], name="Old Name", email="old.name@example.org")
    done = await run_request(
        client,
        tenant,
        {
            "type": "rectification",
            "subject": {"contact_id": visitor["contact_id"]},
            "changes": {"name": "New Name", "email": "new.name@example.org"},
        },
    )
    assert done["progress"]["postgres"]["counts"] == {"contacts": 1}
    async with cross_tenant_session(system.resources("privacy").sessionmaker) as session:
        row = (
            await session.execute(
                text("SELECT name, email FROM contacts WHERE id = :c"), {"c": uuid.UUID(visitor["contact_id"])}
            )
        ).one()
    assert (row.name, row.email) == ("New Name", "new.name@example.org")

    for bad in (
        {"type": "erasure", "subject": {}},
        {"type": "rectification", "subject": {"email": "x@example.org"}},
        {"type": "deletion", "subject": {"email": "x@example.org"}},
    ):
        response = await client.post("/api/v1/privacy/requests", json=bad, headers=tenant.headers)
        assert response.status_code == 422, response.text
        assert "error" in response.json()
    _, agent_token = await create_agent(client, tenant)
    created = await client.post(
        "/api/v1/privacy/requests",
        json={"type": "erasure", "subject": {"email": "nobody@example.org"}},
        headers={"Authorization": f"Bearer {agent_token}"},
    )
    assert created.status_code == 202
    refused = await client.post(
        f"/api/v1/privacy/requests/{created.json()['id']}/approve", headers={"Authorization": f"Bearer {agent_token}"}
    )
    assert refused.status_code == 403
    other = await signup(client)
    hidden = await client.get(f"/api/v1/privacy/requests/{created.json()['id']}", headers=other.headers)
    assert hidden.status_code == 404


async def test_deadlines_are_capped_and_overdue_requests_listed(client: httpx.AsyncClient, system: LiveServer) -> None:
    tenant = await signup(client)
    async with cross_tenant_session(system.resources("privacy").sessionmaker) as session, session.begin():
        await session.execute(
            text('UPDATE accounts SET settings = \'{"privacy": {"deadline_days": 90}}\' WHERE id = :a'),
            {"a": uuid.UUID(tenant.account_id)},
        )
    created = await client.post(
        "/api/v1/privacy/requests",
        json={"type": "access", "subject": {"email": "late@example.org"}},
        headers=tenant.headers,
    )
    due = created.json()["due_at"]
    body = (await client.get(f"/api/v1/privacy/requests/{created.json()['id']}", headers=tenant.headers)).json()
    days = (
        __import__("datetime").datetime.fromisoformat(due)
        - __import__("datetime").datetime.fromisoformat(body["created_at"])
    ).days
    assert days == 30  # GDPR's month, not the 90 days asked for
    async with cross_tenant_session(system.resources("privacy").sessionmaker) as session, session.begin():
        await session.execute(
            text("UPDATE privacy_requests SET due_at = now() - interval '1 hour' WHERE id = :r"),
            {"r": uuid.UUID(created.json()["id"])},
        )
    overdue = await client.get("/api/v1/privacy/requests?due=overdue", headers=tenant.headers)
    assert [r["id"] for r in overdue.json()] == [created.json()["id"]] and overdue.json()[0]["overdue"]
    assert (await client.get("/api/v1/privacy/requests?due=near_due", headers=tenant.headers)).json() == []

    async def metric_exported() -> bool:
        lines = (await client.get("/metrics")).text.splitlines()

        def at_least_one(prefix: str) -> bool:
            return any(line.startswith(prefix) and float(line.split()[-1]) >= 1 for line in lines)

        # The series docs/operations.md alerts on, beside the per-deadline gauge and the count by state.
        return (
            at_least_one("switchboard_privacy_requests_overdue ")
            and at_least_one('switchboard_privacy_requests_due{state="overdue"}')
            and at_least_one("switchboard_privacy_requests{state=")
        )

    for _ in range(50):
        if await metric_exported():
            break
        await asyncio.sleep(0.2)
    assert await metric_exported()


async def test_a_store_outage_is_retried_and_refusals_are_reported(
    client: httpx.AsyncClient, system: LiveServer, fake_slack: FakeSlack
) -> None:
    tenant = await signup(client)
    team = new_team()
    slack = await slack_inbox(client, tenant, team, fake_slack, channel="CAGENTS")
    visitor = await customer(client, tenant, ["mirrored words"], email="outage@example.org")
    conversation_id = (await stored_messages(system, visitor["contact_id"], 1))[0]
    async with cross_tenant_session(system.resources("privacy").sessionmaker) as session, session.begin():
        for ts in ("1800000000.000001", "1800000000.000002"):
            await session.execute(
                text(
                    "INSERT INTO slack_mirror_messages (id, account_id, conversation_id, message_id, inbox_id, "
                    "slack_channel_id, slack_ts, created_at) VALUES (:id, :a, :c, NULL, :i, 'CAGENTS', :ts, now())"
                ),
                {
                    "id": uuid.uuid4(),
                    "a": uuid.UUID(tenant.account_id),
                    "c": conversation_id,
                    "i": uuid.UUID(slack["id"]),
                    "ts": ts,
                },
            )
    # Slack is down twice, then refuses one message (e.g. posted by another app): reported, not hidden.
    fake_slack.script["chat.delete"] = [("500", None), ("500", None), ("error", "cant_delete_message")]
    created = await client.post(
        "/api/v1/privacy/requests",
        json={"type": "erasure", "subject": {"email": "outage@example.org"}},
        headers=tenant.headers,
    )
    request_id = created.json()["id"]
    await client.post(f"/api/v1/privacy/requests/{request_id}/approve", headers=tenant.headers)
    done = await wait_status(client, tenant, request_id, "completed")
    assert done["progress"]["slack"]["attempts"] == 2  # failed twice, retried, never skipped
    assert done["progress"]["slack"]["counts"] == {"deleted": 1, "not_deleted": 1}
    assert done["report"]["not_deleted"] == [
        {"store": "slack", "channel": "CAGENTS", "ts": "1800000000.000001", "error": "cant_delete_message"}
    ]
    assert done["report"]["certificate"]["not_deleted"] == 1
    audit = (await client.get("/api/v1/privacy/audit", headers=tenant.headers)).json()
    actions = [e["action"] for e in audit]
    assert actions.count("erasure.slack.failed") == 2 and "erasure.completed" in actions
    assert "outage@example.org" not in json.dumps(audit)


async def test_a_crashed_workers_request_is_resumed(client: httpx.AsyncClient, system: LiveServer) -> None:
    tenant = await signup(client)
    visitor = await customer(client, tenant, ["resume me"], email="crash@example.org")
    await stored_messages(system, visitor["contact_id"], 1)
    request_id = uuid.uuid4()
    now = utcnow()
    # A worker claimed it, finished two steps and died: its lease has expired.
    async with cross_tenant_session(system.resources("privacy").sessionmaker) as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO privacy_requests (id, account_id, type, status, subject, changes, contact_ids, due_at, "
                "verified_at, progress, report, attempts, lease_owner, lease_expires_at, created_at) VALUES "
                "(:id, :a, 'erasure', 'in_progress', '{}', '{}', :contacts, :due, :now, :progress, '{}', 1, "
                "'dead-worker', :expired, :now)"
            ),
            {
                "id": request_id,
                "a": uuid.UUID(tenant.account_id),
                "contacts": json.dumps([visitor["contact_id"]]),
                "due": now + timedelta(days=7),
                "now": now,
                "progress": json.dumps({"slack": {"status": "done", "counts": {"deleted": 0}}}),
                "expired": now - timedelta(seconds=1),
            },
        )
    done = await wait_status(client, tenant, str(request_id), "completed")
    assert done["progress"]["slack"]["counts"] == {"deleted": 0}  # not redone
    assert done["progress"]["postgres"]["counts"]["messages"] == 1
    async with cross_tenant_session(system.resources("privacy").sessionmaker) as session:
        left = await session.scalar(
            text("SELECT count(*) FROM contacts WHERE id = :c"), {"c": uuid.UUID(visitor["contact_id"])}
        )
    assert left == 0


async def test_retention_sweeps_in_batches_with_a_dry_run(client: httpx.AsyncClient, system: LiveServer) -> None:
    tenant = await signup(client)
    account = uuid.UUID(tenant.account_id)
    visitor = await customer(client, tenant, ["old one", "old two", "old three", "new one"])
    await stored_messages(system, visitor["contact_id"], 4)
    async with cross_tenant_session(system.resources("privacy").sessionmaker) as session, session.begin():
        await session.execute(
            text(
                "UPDATE messages SET created_at = now() - interval '40 days' WHERE account_id = :a AND text LIKE 'old%'"
            ),
            {"a": account},
        )
    put = await client.put("/api/v1/privacy/retention", json={"messages": 30}, headers=tenant.headers)
    assert put.status_code == 200 and put.json() == {"messages": 30}, put.text
    preview = await client.get("/api/v1/privacy/retention/preview", headers=tenant.headers)
    assert preview.json() == {"dry_run": True, "batch_size": 2, "rows": {"messages": 2}}  # counted up to a batch
    res = system.resources("privacy")
    result = await retention_sweep(res, res.settings, account_id=account)
    assert result.rows == {"messages": 3}  # two batches: 2 + 1
    async with cross_tenant_session(res.sessionmaker) as session:
        texts = list(await session.scalars(text("SELECT text FROM messages WHERE account_id = :a"), {"a": account}))
        kept = await session.scalar(
            text("SELECT sum(count) FROM erased_statistics WHERE account_id = :a AND kind = 'messages'"), {"a": account}
        )
    assert texts == ["new one"] and kept == 3
    assert (
        await client.put("/api/v1/privacy/retention", json={"messages": 0}, headers=tenant.headers)
    ).status_code == 422


async def test_pre_chat_consent_and_sharing_opt_out(client: httpx.AsyncClient, system: LiveServer) -> None:
    from switchboard_common.domain.privacy.consent import sharing_allowed

    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    configured = await client.patch(
        f"/api/v1/inboxes/{inbox['id']}",
        headers=tenant.headers,
        json={"settings": {"consent_required": True, "consent_version": "v2", "consent_text": "We store your chat."}},
    )
    assert configured.status_code == 200, configured.text
    for consent in (None, {"version": "v1"}):
        refused = await client.post(
            "/api/v1/widget/sessions", json={"widget_token": inbox["widget_token"], "consent": consent}
        )
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "consent_required", refused.text
    visitor = await visitor_session(client, inbox["widget_token"], consent={"version": "v2"})
    consents = await client.get(f"/api/v1/privacy/contacts/{visitor['contact_id']}/consents", headers=tenant.headers)
    assert [(c["kind"], c["version"], c["granted"]) for c in consents.json()] == [("pre_chat", "v2", True)]

    contact = uuid.UUID(visitor["contact_id"])
    account = uuid.UUID(tenant.account_id)
    sessionmaker = system.resources("privacy").sessionmaker
    async with tenant_session(sessionmaker, account) as session:
        assert await sharing_allowed(session, account, contact)
    opted = await client.put(
        f"/api/v1/privacy/contacts/{contact}/sharing", json={"opt_out": True}, headers=tenant.headers
    )
    assert opted.status_code == 200 and opted.json()["sharing_opt_out"] is True
    async with tenant_session(sessionmaker, account) as session:
        assert not await sharing_allowed(session, account, contact)
    stranger = uuid.uuid4()
    async with tenant_session(sessionmaker, stranger) as session:
        assert not await sharing_allowed(session, stranger, contact)  # another account never sees it
    other = await signup(client)
    assert (
        await client.put(f"/api/v1/privacy/contacts/{contact}/sharing", json={"opt_out": False}, headers=other.headers)
    ).status_code == 404


async def read_topics(system: LiveServer) -> list[dict[str, Any]]:
    """Every record of the system's topics as a consumer reads it back (personal fields opened with the keys
    that exist now)."""
    from aiokafka import AIOKafkaConsumer
    from aiokafka.admin import AIOKafkaAdminClient

    res = system.resources("privacy")
    settings = res.settings
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    topics = [t for t in await admin.list_topics() if t.startswith(settings.kafka_namespace + ".")]
    await admin.close()
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    reader = SubjectKeys(res.sessionmaker, res.keyring, pseudonyms=res.pseudonyms, cache_seconds=0)
    await consumer.start()
    records: list[dict[str, Any]] = []
    try:
        idle = 0
        while idle < 3:
            batch = await consumer.getmany(timeout_ms=500)
            idle = 0 if batch else idle + 1
            for items in batch.values():
                records += [json.loads(await reader.open(item.value or b"{}")) for item in items]
    finally:
        await consumer.stop()
    return records


async def test_rectification_reaches_kafka_copies(client: httpx.AsyncClient, system: LiveServer) -> None:
    tenant = await signup(client)
    inbox = await client.post(
        "/api/v1/inboxes", json={"name": "Shop", "channel": "api", "settings": {}}, headers=tenant.headers
    )
    assert inbox.status_code == 201, inbox.text
    tag = uuid.uuid4().hex[:10]
    old_name, old_email = f"Old Kafka Name {tag}", f"old.kafka.{tag}@example.org"
    new_name, new_email = f"New Kafka Name {tag}", f"new.kafka.{tag}@example.org"
    agent = await Socket.open(f"{system.ws_url}/api/v1/ws?token={tenant.token}")
    body = json.dumps(
        {
            "contact": {"external_id": f"shop-customer-{tag}", "name": old_name, "email": old_email},
            "message": {"id": f"m-{tag}", "text": f"order question {tag}"},
        }
    ).encode()
    sent = await client.post(
        f"/webhooks/api/{inbox.json()['id']}",
        content=body,
        headers=signed_headers(inbox.json()["secret"], body),
    )
    assert sent.status_code == 202, sent.text
    assigned = await agent.wait_for(lambda f: f["type"] == "conversation.assigned")
    contact_id = assigned["conversation"]["contact_id"]

    def ours(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
        return [r for r in records if r["type"] == kind and r["tenant_id"] == tenant.account_id]

    before = ours(await read_topics(system), "inbound.message_received")
    assert [(r["payload"]["contact_name"], r["payload"]["contact_email"]) for r in before] == [(old_name, old_email)]

    done = await run_request(
        client,
        tenant,
        {
            "type": "rectification",
            "subject": {"contact_id": contact_id},
            "changes": {"name": new_name, "email": new_email},
        },
    )
    assert set(done["progress"]) == {"postgres", "kafka", "publish"}
    assert done["progress"]["kafka"]["counts"]["profile_keys_destroyed"] >= 1
    assert done["progress"]["publish"]["counts"] == {"events": 1, "slack_threads": 0, "not_rectified": 0}
    # The agent handling the conversation is told (a consumer applying the event).
    update = await agent.wait_for(lambda f: f["type"] == "contact.updated")
    assert update["contact_id"] == contact_id and update["changes"] == {"name": new_name, "email": new_email}
    await agent.close()

    records = await read_topics(system)
    inbound = ours(records, "inbound.message_received")
    # Old copies of the contact fields no longer read; the same records' message text still does.
    assert [(r["payload"]["contact_name"], r["payload"]["contact_email"]) for r in inbound] == [(None, None)]
    assert inbound[0]["payload"]["text"] == f"order question {tag}"
    updated = ours(records, "contact.updated")
    assert [(u["payload"]["contact_id"], u["payload"]["name"], u["payload"]["email"]) for u in updated] == [
        (contact_id, new_name, new_email)
    ]
    readable = json.dumps(records)
    assert old_name not in readable and old_email not in readable
