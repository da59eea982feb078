"""Pseudonymous ids cannot be reversed by dictionary: Kafka record keys and the key references that Kafka
records carry in clear are keyed hashes (HMAC with the installation's pseudonym key), not SHA-256 of the
customer's channel id; erasure also destroys keys under the pre-upgrade unsalted refs, and the retention sweep
deletes those once no topic can hold a record naming them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import text
from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.domain.encryption.shredding import (
    identity_ref,
    legacy_identity_ref,
)
from switchboard_common.domain.events import InboundMessagePayload, InboundMessageReceived, utcnow
from switchboard_common.infra.pseudonyms import Pseudonyms
from switchboard_common.infra.signing import signed_headers
from switchboard_devstack.servers import StackUrls
from switchboard_privacy.retention.sweep import sweep as retention_sweep

from tests.helpers.api import signup
from tests.helpers.live import LiveServer, live_server
from tests.helpers.privacy import wait_status


@pytest.fixture(scope="module")
async def system(stack_urls: StackUrls) -> AsyncIterator[LiveServer]:
    async with live_server(stack_urls, SUBJECT_KEY_CACHE_SECONDS="0", PRIVACY_WORKER_INTERVAL_SECONDS="0.2") as live:
        yield live


@pytest.fixture
async def client(system: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as http:
        yield http


def test_identity_refs_and_record_keys_are_keyed() -> None:
    ours, theirs = Pseudonyms(b"a" * 32), Pseudonyms(b"b" * 32)
    account, phone = uuid.uuid4(), "+15551234567"
    plain = hashlib.sha256(f"{account}:api:{phone}".encode()).hexdigest()
    assert identity_ref(ours, account, "api", phone) == identity_ref(ours, account, "api", phone)
    assert plain not in identity_ref(ours, account, "api", phone)
    assert identity_ref(ours, account, "api", phone) != identity_ref(theirs, account, "api", phone)
    assert legacy_identity_ref(account, "api", phone) == f"identity:{plain}"


async def _inbound_records(system: LiveServer, inbox_id: str) -> list[tuple[bytes, dict[str, Any]]]:
    settings = system.resources("privacy").settings
    consumer = AIOKafkaConsumer(
        settings.topic("inbound"),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[tuple[bytes, dict[str, Any]]] = []
    try:
        for _ in range(40):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    value = json.loads(record.value or b"{}")
                    if value.get("payload", {}).get("inbox_id") == inbox_id:
                        found.append((record.key or b"", value))
            if found:
                break
    finally:
        await consumer.stop()
    return found


async def test_kafka_keys_and_refs_carry_no_plain_hash_of_the_customer(
    client: httpx.AsyncClient, system: LiveServer
) -> None:
    tenant = await signup(client)
    inbox = (
        await client.post("/api/v1/inboxes", json={"name": "Shop", "channel": "api"}, headers=tenant.headers)
    ).json()
    external = f"+4420794{uuid.uuid4().int % 100000:05d}"
    body = json.dumps({"contact": {"external_id": external}, "message": {"id": "m1", "text": "hello"}}).encode()
    sent = await client.post(
        f"/webhooks/api/{inbox['id']}", content=body, headers=signed_headers(inbox["secret"], body)
    )
    assert sent.status_code == 202, sent.text
    [(key, value)] = await _inbound_records(system, inbox["id"])
    material = f"{inbox['id']}:{external}"
    assert key != hashlib.sha256(material.encode()).hexdigest().encode()
    assert key == system.resources("privacy").pseudonyms.digest("kafka-key", material).encode()
    sealed = value["payload"]["external_contact_id"]
    assert sealed.startswith("sbx1:identity-k:") and external not in json.dumps(value)
    legacy = legacy_identity_ref(tenant.account_id, "api", external)
    assert legacy.removeprefix("identity:") not in json.dumps(value)
    async with cross_tenant_session(system.resources("privacy").sessionmaker) as session:
        refs = list(
            await session.scalars(
                text("SELECT ref FROM subject_keys WHERE account_id = :a"), {"a": uuid.UUID(tenant.account_id)}
            )
        )
    assert any(r.startswith("identity-k:") for r in refs) and not any(r.startswith("identity:") for r in refs)


async def test_erasure_destroys_pre_upgrade_identity_keys_and_retention_expires_the_rest(
    client: httpx.AsyncClient, system: LiveServer
) -> None:
    res = system.resources("privacy")
    tenant = await signup(client)
    account = uuid.UUID(tenant.account_id)
    inbox = (
        await client.post("/api/v1/inboxes", json={"name": "Shop", "channel": "api"}, headers=tenant.headers)
    ).json()
    external = f"legacy-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"contact": {"external_id": external}, "message": {"id": "m1", "text": "hi"}}).encode()
    sent = await client.post(
        f"/webhooks/api/{inbox['id']}", content=body, headers=signed_headers(inbox["secret"], body)
    )
    assert sent.status_code == 202
    # A key written before the upgrade, under the unsalted ref (and an unrelated old one, of nobody erased).
    codec = res.bus.codec
    stale = legacy_identity_ref(account, "api", "someone-else")
    async with cross_tenant_session(res.sessionmaker) as session, session.begin():
        for ref in (legacy_identity_ref(account, "api", external), stale):
            await codec.ensure(session, account, ref)
    for _ in range(100):  # the ingest worker creates the contact
        async with cross_tenant_session(res.sessionmaker) as session:
            if await session.scalar(
                text("SELECT 1 FROM contact_identities WHERE account_id = :a AND external_id = :e"),
                {"a": account, "e": external},
            ):
                break
        await asyncio.sleep(0.1)
    created = await client.post(
        "/api/v1/privacy/requests",
        json={"type": "erasure", "subject": {"identities": [{"channel": "api", "external_id": external}]}},
        headers=tenant.headers,
    )
    assert created.status_code == 202, created.text
    request_id = created.json()["id"]
    approved = await client.post(f"/api/v1/privacy/requests/{request_id}/approve", headers=tenant.headers)
    assert approved.status_code == 200, approved.text
    await wait_status(client, tenant, request_id, "completed")
    async with cross_tenant_session(res.sessionmaker) as session:
        left = set(await session.scalars(text("SELECT ref FROM subject_keys WHERE account_id = :a"), {"a": account}))
    assert legacy_identity_ref(account, "api", external) not in left and stale in left

    # Once no topic can hold a record sealed under it, the retention sweep deletes the old form too.
    later = utcnow() + timedelta(days=31)
    await retention_sweep(res, res.settings, now=later)
    async with cross_tenant_session(res.sessionmaker) as session:
        assert await session.scalar(text("SELECT count(*) FROM subject_keys WHERE ref = :r"), {"r": stale}) == 0


async def test_the_codec_keys_records_about_an_identity_by_its_pseudonym(system: LiveServer) -> None:
    codec = system.resources("privacy").bus.codec
    inbox, account = uuid.uuid4(), uuid.uuid4()
    event = InboundMessageReceived(
        tenant_id=account,
        payload=InboundMessagePayload(
            inbox_id=inbox,
            channel="api",
            external_contact_id="alice@example.com",
            external_message_id="x",
            text="hi",
            sent_at=utcnow(),
        ),
    )
    key = codec.record_key(event)
    assert b"alice" not in key and key != hashlib.sha256(f"{inbox}:alice@example.com".encode()).hexdigest().encode()
