"""The forensic erasure test: a subject reaches us through the web widget (with a Slack thread mirror, agent
replies, consent, an attachment, an earlier access export); after erasure every store is scanned byte by byte
for the subject's identifiers and texts (a full SQL dump, every Redis key and value, every Kafka record read
back with every surviving key, the attachment store — a local directory, or every version of every object
of an S3 bucket — and the log file) while a second subject stays intact. It runs once per attachment backend."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from switchboard_common.infra.logging import configure_logging
from switchboard_devstack import LocalStack
from switchboard_devstack.servers import StackUrls

from tests.fakes.s3 import S3Server
from tests.fakes.slack import FakeSlack
from tests.helpers.api import Socket, Tenant, create_agent, create_web_inbox, signup, visitor_session
from tests.helpers.live import LiveServer, live_server
from tests.helpers.redis_keys import unregistered_keys
from tests.helpers.scan import scan_directory, scan_kafka, scan_postgres, scan_redis
from tests.helpers.slack import new_team, slack_inbox

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("privacy-logs") / "server.log"


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    server = S3Server()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module", params=["local", "s3"])
async def system(
    request: pytest.FixtureRequest,
    stack_urls: StackUrls,
    fake_slack: FakeSlack,
    tmp_path_factory: pytest.TempPathFactory,
    log_file: Path,
    s3: S3Server,
) -> AsyncIterator[LiveServer]:
    saved = structlog.get_config()
    stream = log_file.open("a", encoding="utf-8")
    # Everything the services log while this module runs goes to a file we scan (DEBUG: the most verbose).
    configure_logging("DEBUG", json_output=True, service="test", stream=stream)
    data_dir = tmp_path_factory.mktemp("privacy-data")
    # The S3 bucket keeps versions: erasure must remove every version, not only add delete markers.
    backend = s3.env(await s3.create_bucket(versioned=True)) if request.param == "s3" else {}
    try:
        async with live_server(
            stack_urls,
            **backend,
            DATA_DIR=str(data_dir),
            SLACK_API_URL=fake_slack.url,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_MAX_WAIT_SECONDS="5",
            SUBJECT_KEY_CACHE_SECONDS="0.5",
            PRIVACY_WORKER_INTERVAL_SECONDS="0.2",
            PRIVACY_RETRY_BASE_SECONDS="0.2",
        ) as live:
            yield live
    finally:
        structlog.configure(**saved)
        stream.close()


async def mirrored_web_inbox(client: httpx.AsyncClient, tenant: Tenant, fake: FakeSlack) -> dict[str, Any]:
    """A web inbox whose conversations are mirrored into a Slack inbox's channel (Slack as the agents' workspace)."""
    slack = await slack_inbox(client, tenant, new_team(), fake, channel="CAGENTS")
    web = await create_web_inbox(client, tenant)
    linked = await client.patch(
        f"/api/v1/inboxes/{web['id']}",
        headers=tenant.headers,
        json={"settings": {"slack_mirror_inbox_id": slack["id"]}},
    )
    assert linked.status_code == 200, linked.text
    return web


async def wait_until(check: Any, timeout: float = 30.0, describe: Any = None) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached in time: {await describe() if describe else ''}")
        await asyncio.sleep(0.2)


class Person:
    """A data subject with unique, searchable identifiers."""

    def __init__(self, label: str) -> None:
        tag = uuid.uuid4().hex[:12]
        self.name = f"Name{label}{tag}"
        self.email = f"mail{label}{tag}@example.org"
        self.texts = [f"secret {label} message one {tag}", f"secret {label} message two {tag}"]
        self.reply = f"agent reply for {label} {tag}"
        self.attachment = f"ATTACHMENT BYTES {label} {tag}".encode()
        self.contact_id = ""
        self.conversation_id = ""

    def needles(self) -> list[str]:
        # The widget stores addresses lower-cased; the requests name them as the person wrote them.
        return [self.name, self.email.lower(), *self.texts, self.reply, self.attachment.decode()]


async def converse(
    client: httpx.AsyncClient, system: LiveServer, inbox: dict[str, Any], agent: Socket, agent_token: str, p: Person
) -> None:
    visitor = await visitor_session(client, inbox["widget_token"], name=p.name, email=p.email)
    p.contact_id = visitor["contact_id"]
    headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
    for body in p.texts:
        response = await client.post("/api/v1/widget/messages", json={"text": body}, headers=headers)
        assert response.status_code == 202, response.text
    assigned = await agent.wait_for(
        lambda f: f["type"] == "conversation.assigned" and f["conversation"]["contact_id"] == p.contact_id
    )
    p.conversation_id = assigned["conversation"]["id"]
    reply = await client.post(
        f"/api/v1/conversations/{p.conversation_id}/messages",
        json={"text": p.reply},
        headers={"Authorization": f"Bearer {agent_token}"},
    )
    assert reply.status_code == 201, reply.text


async def scan_attachments(system: LiveServer, s3: S3Server) -> str:
    """The data directory, plus the bucket (every version) when attachments live in S3."""
    files = scan_directory(Path(system.env["DATA_DIR"]))
    if system.env.get("ATTACHMENTS_BACKEND") == "s3":
        files += "\n" + await s3.scan(system.env["S3_BUCKET"])
    return files


async def test_erasure_leaves_no_trace_in_any_store(
    system: LiveServer, fake_slack: FakeSlack, stack: LocalStack, stack_urls: StackUrls, log_file: Path, s3: S3Server
) -> None:
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        web = await mirrored_web_inbox(client, tenant, fake_slack)
        _, agent_token = await create_agent(client, tenant)
        agent = await Socket.open(f"{system.ws_url}/api/v1/ws?token={agent_token}")
        subject, other = Person("A"), Person("B")
        before_posts = len(fake_slack.posted())
        await converse(client, system, web, agent, agent_token, subject)
        await converse(client, system, web, agent, agent_token, other)
        # The two customers' messages are mirrored into Slack threads (parent + messages).
        await fake_slack.wait_posts(before_posts + 6)
        store = system.resources("privacy").attachments
        account = uuid.UUID(tenant.account_id)
        await store.put(account, uuid.UUID(subject.contact_id), subject.attachment)
        await store.put(account, uuid.UUID(other.contact_id), other.attachment)
        opt_out = await client.put(
            f"/api/v1/privacy/contacts/{subject.contact_id}/sharing", json={"opt_out": True}, headers=tenant.headers
        )
        assert opt_out.status_code == 200, opt_out.text

        async def stored() -> bool:
            response = await client.get(
                f"/api/v1/conversations/{subject.conversation_id}/messages", headers=tenant.headers
            )
            return response.status_code == 200 and len(response.json()) >= 3

        await wait_until(stored)
        mirrored_ts = {
            (body["channel"], body.get("ts") or "")
            for body in fake_slack.posted()
            if subject.name in body.get("text", "") or body.get("text") in subject.texts
        }
        assert mirrored_ts, "the subject's messages were mirrored to Slack"

        # An earlier access request: its ZIP (data and attachment) is a copy erasure must find too.
        access = await client.post(
            "/api/v1/privacy/requests",
            json={"type": "access", "subject": {"email": subject.email}},
            headers=tenant.headers,
        )
        await client.post(f"/api/v1/privacy/requests/{access.json()['id']}/approve", headers=tenant.headers)

        async def exported() -> dict[str, Any] | None:
            body = (await client.get(f"/api/v1/privacy/requests/{access.json()['id']}", headers=tenant.headers)).json()
            return body if body["status"] == "completed" else None

        link = (await wait_until(exported))["report"]["download"]["url"]
        archive = await client.get(link)
        assert archive.status_code == 200, archive.text
        with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
            data = json.loads(zipped.read("data.json"))
            assert [zipped.read(name) for name in data["attachments"]] == [subject.attachment]
            assert data["tables"]["contacts"][0]["email"] == subject.email.lower()

        deletes_before = sum(1 for method, _, _ in fake_slack.calls if method == "chat.delete")
        created = await client.post(
            "/api/v1/privacy/requests",
            json={"type": "erasure", "subject": {"email": subject.email}},
            headers=tenant.headers,
        )
        assert created.status_code == 202, created.text
        request_id = created.json()["id"]
        assert created.json()["status"] == "received"
        approved = await client.post(f"/api/v1/privacy/requests/{request_id}/approve", headers=tenant.headers)
        assert approved.status_code == 200 and approved.json()["contacts_found"] == 1, approved.text

        async def current() -> dict[str, Any]:
            return dict((await client.get(f"/api/v1/privacy/requests/{request_id}", headers=tenant.headers)).json())

        async def completed() -> dict[str, Any] | None:
            body = await current()
            return body if body["status"] == "completed" else None

        done = await wait_until(completed, timeout=60, describe=current)
        assert set(done["progress"]) == {"ledger", "slack", "attachments", "kafka", "redis", "postgres"}
        assert done["progress"]["postgres"]["counts"]["messages"] == 3
        assert done["progress"]["slack"]["counts"]["deleted"] == 3
        assert done["progress"]["kafka"]["counts"]["keys_destroyed"] >= 1
        certificate = await client.get(f"/api/v1/privacy/requests/{request_id}/certificate", headers=tenant.headers)
        assert certificate.json()["stores"]["attachments"] == {"files": 1, "exports": 1}
        assert (await client.get(link)).status_code == 404  # the earlier export is gone with the rest
        deleted = [body for method, body, _ in fake_slack.calls if method == "chat.delete"]
        assert len(deleted) == deletes_before + 3
        # Aggregates survive without the person.
        stats = await client.get(f"/api/v1/conversations/{other.conversation_id}/messages", headers=tenant.headers)
        assert [m["text"] for m in stats.json()] == [*other.texts, other.reply]
        await agent.close()

    identifiers = subject.needles()
    identifiers_with_id = [*identifiers, subject.contact_id]
    pg = await scan_postgres(stack, system.env["DATABASE_URL"])
    redis = await scan_redis(stack_urls.redis_url)
    kafka = await scan_kafka(system.settings(), system.env["DATABASE_URL"])
    files = await scan_attachments(system, s3)
    logs = log_file.read_text(encoding="utf-8", errors="replace")
    assert "privacy_request_completed" in logs, "the services logged to the scanned file"
    assert "outbox_events" in pg or "INSERT INTO" in pg
    # Kafka records keep the contact's pseudonymous uuid (routing needs it); every personal field is shredded.
    for where, haystack, needles in (
        ("postgres", pg, identifiers_with_id),
        ("redis", redis, identifiers_with_id),
        ("kafka", kafka, identifiers),
        ("attachments", files, identifiers_with_id),
        ("logs", logs, identifiers),
    ):
        hits = [needle for needle in needles if needle in haystack]
        assert not hits, f"{where} still holds {hits}"
    # The other subject is intact everywhere it should be.
    for needle in [other.email.lower(), *other.texts]:
        assert needle in pg
    assert all(t in kafka for t in other.texts), "the other subject's events still decrypt"
    assert other.attachment.decode() in files
    assert other.conversation_id in redis


async def test_rectified_name_rewrites_the_slack_thread_header(system: LiveServer, fake_slack: FakeSlack) -> None:
    """The header the mirror wrote into Slack names the contact: a rectified name reaches it (chat.update)."""
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        web = await mirrored_web_inbox(client, tenant, fake_slack)
        _, agent_token = await create_agent(client, tenant)
        agent = await Socket.open(f"{system.ws_url}/api/v1/ws?token={agent_token}")
        person = Person("R")
        await converse(client, system, web, agent, agent_token, person)

        def header() -> tuple[dict[str, Any], str] | None:
            for index, body in enumerate(fake_slack.posted()):
                if body.get("text", "").startswith(f"New web conversation with {person.name}."):
                    return body, fake_slack.post_ts[index]
            return None

        async def mirrored() -> tuple[dict[str, Any], str] | None:
            return header()

        parent, parent_ts = await wait_until(mirrored)
        new_name = f"Corrected {uuid.uuid4().hex[:8]}"
        calls_before = len(fake_slack.calls)  # the fake is shared by the module's tests
        created = await client.post(
            "/api/v1/privacy/requests",
            json={"type": "rectification", "subject": {"contact_id": person.contact_id}, "changes": {"name": new_name}},
            headers=tenant.headers,
        )
        assert created.status_code == 202, created.text
        request_url = f"/api/v1/privacy/requests/{created.json()['id']}"
        await client.post(f"{request_url}/approve", headers=tenant.headers)

        async def completed() -> dict[str, Any] | None:
            body = (await client.get(request_url, headers=tenant.headers)).json()
            return body if body["status"] == "completed" else None

        done = await wait_until(completed, timeout=60)
        assert done["progress"]["publish"]["counts"]["slack_threads"] == 1
        assert "not_rectified" not in done["report"]
        updates = [body for method, body, _ in fake_slack.calls[calls_before:] if method == "chat.update"]
        assert updates == [
            {
                "channel": parent["channel"],
                "ts": parent_ts,
                "text": f"New web conversation with {new_name}. Reply in this thread to answer.",
            }
        ]
        await agent.close()


async def test_every_key_left_in_redis_is_registered(system: LiveServer, stack_urls: StackUrls) -> None:
    """What this module's run wrote to Redis was named by the key registry (tests/helpers/redis_keys.py)."""
    assert await unregistered_keys(stack_urls.redis_url, system.env["REDIS_NAMESPACE"]) == []
