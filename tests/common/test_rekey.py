"""Key rotation end to end: secrets written through the API under an old key, the key rotated in the
environment, ``python -m switchboard_common.domain.encryption.rekey`` (dry run, real run, rerun), the old key
removed -- and every value still decrypts, through the services and directly.

This module rewrites every encrypted value of its database, so each test works in a database of its own."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import create_async_engine
from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.domain.encryption import rekey
from switchboard_common.domain.encryption.columns import INBOX_SECRETS, REGISTRY
from switchboard_common.domain.inboxes.bot_config import decrypt_credentials
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.domain.inboxes.secrets import decrypt_secrets
from switchboard_common.infra import signing
from switchboard_common.infra.crypto import Keyring
from switchboard_common.infra.db import create_sessionmaker
from switchboard_devstack.servers import StackUrls

from tests.fakes.slack import FakeSlack
from tests.helpers.api import create_web_inbox, signup, visitor_session
from tests.helpers.databases import drop_database, system_database
from tests.helpers.live import live_server


@pytest.fixture
async def stack_urls(stack_urls: StackUrls) -> AsyncIterator[StackUrls]:
    """These tests read every encrypted value in their database and rotate the keys of all of them: a database
    of their own, which no other module writes to (with the suite in xdist workers, other modules' direct
    writes share the session's database)."""
    own = await system_database(stack_urls.database_url)
    if own is None:  # a given DATABASE_URL whose role may not create databases
        yield stack_urls
        return
    try:
        yield dataclasses.replace(stack_urls, database_url=own[1])
    finally:
        await drop_database(stack_urls.database_url, own[0])


PASSWORD = "correct horse battery"


def _key(key_id: str) -> tuple[str, bytes, str]:
    material = os.urandom(32)
    return key_id, material, f"{key_id}:{base64.b64encode(material).decode()}"


def _run_cli(urls: StackUrls, keys: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ENVIRONMENT": "test", "DATABASE_URL": urls.database_url, "ENCRYPTION_KEYS": keys}
    return subprocess.run(
        [sys.executable, "-m", "switchboard_common.domain.encryption.rekey", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _counts(output: str) -> dict[str, list[int]]:
    """{column: [values, under old keys, (would be) re-encrypted, failed]} from the CLI's report."""
    counts = {}
    for line in output.splitlines():
        name, sep, rest = line.partition(": ")
        if sep and name in {c.name for c in REGISTRY}:
            counts[name] = [int(word) for word in rest.replace(",", " ").split() if word.isdigit()]
    return counts


async def _values(urls: StackUrls) -> dict[str, list[tuple[Any, bytes]]]:
    engine = create_async_engine(urls.database_url)
    try:
        async with cross_tenant_session(create_sessionmaker(engine)) as session:
            return {
                c.name: [
                    (k, bytes(v)) for k, v in (await session.execute(select(c.key, c.column))).all() if v is not None
                ]
                for c in REGISTRY
            }
    finally:
        await engine.dispose()


async def _write_secrets(http: httpx.AsyncClient, fake_slack: FakeSlack) -> dict[str, Any]:
    """One value in every encrypted column, through the API."""
    tenant = await signup(http)
    api_inbox = (
        await http.post("/api/v1/inboxes", json={"name": "API", "channel": "api"}, headers=tenant.headers)
    ).json()
    slack = await http.post(
        "/api/v1/inboxes",
        json={
            "name": "Slack",
            "channel": "slack",
            "settings": {
                "team_id": "TROT",
                "channel_id": "CROT",
                "bot_token": fake_slack.install("xoxb-rotate-me-1", "TROT"),
                "bot_user_id": "UB",
            },
        },
        headers=tenant.headers,
    )
    assert slack.status_code == 201, slack.text
    web = await create_web_inbox(http, tenant)
    bot = await http.put(
        f"/api/v1/inboxes/{web['id']}/bot",
        json={"project_id": "rotate-bot", "client_id": "cid", "client_secret": "csecret", "refresh_token": "rtoken"},
        headers=tenant.headers,
    )
    assert bot.status_code == 200, bot.text
    hook = await http.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["conversation.resolved"]},
        headers=tenant.headers,
    )
    assert hook.status_code == 201, hook.text
    secret = (await http.post("/api/v1/auth/2fa/enroll", headers=tenant.headers)).json()["secret"]
    confirmed_at = time.time()
    confirmed = await http.post(
        "/api/v1/auth/2fa/confirm", json={"code": pyotp.TOTP(secret).at(confirmed_at)}, headers=tenant.headers
    )
    assert confirmed.status_code == 200, confirmed.text
    # A visitor's message creates the subject keys of crypto-shredding.
    visitor = await visitor_session(http, web["widget_token"], name="Dana")
    sent = await http.post(
        "/api/v1/widget/messages",
        json={"text": "hello"},
        headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
    )
    assert sent.status_code == 202, sent.text
    return {
        "tenant": tenant,
        "api_inbox": api_inbox,
        "slack_id": slack.json()["id"],
        "web_id": web["id"],
        "totp": secret,
        "totp_step": int(confirmed_at // 30),
        "webhook_secret": hook.json()["secret"],
    }


async def test_rotate_rekey_and_drop_the_old_key(stack_urls: StackUrls, fake_slack: FakeSlack) -> None:
    old_id, old_key, old = _key("old")
    new_id, new_key, new = _key("new")
    env = {"ENCRYPTION_KEYS": old, "OUTBOUND_ALLOW_PRIVATE": "true", "SLACK_API_URL": fake_slack.url}
    shared = stack_urls.database_url  # the systems before and after the rotation read the same rows
    async with (
        live_server(stack_urls, DATABASE_URL=shared, **env) as live,
        httpx.AsyncClient(base_url=live.url, timeout=30) as http,
    ):
        written = await _write_secrets(http, fake_slack)
        for _ in range(200):  # the subject keys are written by the event path: bounded wait for them
            if (await _values(stack_urls))["subject_keys.key_encrypted"]:
                break
            await asyncio.sleep(0.05)
    before = await _values(stack_urls)
    assert all(before.values()), {name: len(rows) for name, rows in before.items()}
    assert all(v.startswith(b"old\x00") for rows in before.values() for _, v in rows)

    # Rotated: the new key first, the old one kept. A dry run counts and writes nothing.
    rotated_keys = f"{new},{old}"
    dry = _run_cli(stack_urls, rotated_keys, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    counts = _counts(dry.stdout)
    assert set(counts) == {c.name for c in REGISTRY}
    for name, rows in before.items():
        assert counts[name] == [len(rows), len(rows), len(rows), 0], (name, dry.stdout)
    assert await _values(stack_urls) == before

    # The sweep, in batches of 1 so several transactions run; then a rerun finds nothing left.
    swept = _run_cli(stack_urls, rotated_keys, "--batch-size", "1")
    assert swept.returncode == 0, swept.stderr
    for name, rows in before.items():
        assert _counts(swept.stdout)[name] == [len(rows), len(rows), len(rows), 0], (name, swept.stdout)
    again = _run_cli(stack_urls, rotated_keys)
    assert again.returncode == 0 and all(c[1:] == [0, 0, 0] for c in _counts(again.stdout).values()), again.stdout
    # Never a secret in the output.
    output = dry.stdout + swept.stdout + again.stdout + dry.stderr + swept.stderr
    for secret in (written["totp"], written["webhook_secret"], written["api_inbox"]["secret"], "xoxb-rotate-me-1"):
        assert secret not in output

    # The old key is gone: every value opens with the new key alone, bound to its own row.
    after = await _values(stack_urls)
    only_new = Keyring([(new_id, new_key)])
    for column in REGISTRY:
        assert {k for k, _ in after[column.name]} == {k for k, _ in before[column.name]}
        for key, blob in after[column.name]:
            assert blob.startswith(b"new\x00")
            assert only_new.decrypt(blob, column.aad(key)) == Keyring([(old_id, old_key)]).decrypt(
                dict(before[column.name])[key], column.aad(key)
            )
    web_bot = next(v for k, v in after["inbox_bots.secrets_encrypted"] if str(k) == written["web_id"])
    assert decrypt_credentials(only_new, uuid.UUID(written["web_id"]), web_bot)["client_secret"] == "csecret"

    # And the services, started with the new key only, use them: TOTP login, a signed API-channel webhook
    # (the connectors decrypt the inbox's signing secret), an inbox update that keeps the Slack token.
    tenant = written["tenant"]
    # A later step's code than the one spent confirming enrollment (each step's code works once); the server
    # accepts one step either side, so this holds even if the clock moves on a step before it checks.
    now = time.time()
    next_code = pyotp.TOTP(written["totp"]).at(now if int(now // 30) > written["totp_step"] else now + 30)
    async with (
        live_server(
            stack_urls,
            DATABASE_URL=stack_urls.database_url,
            ENCRYPTION_KEYS=new,
            OUTBOUND_ALLOW_PRIVATE="true",
            SLACK_API_URL=fake_slack.url,
        ) as live,
        httpx.AsyncClient(base_url=live.url, timeout=30) as http,
    ):
        login = await http.post(
            "/api/v1/auth/login",
            json={"email": tenant.email, "password": PASSWORD, "totp_code": next_code},
        )
        assert login.status_code == 200, login.text
        body = json.dumps(
            {"contact": {"external_id": "c1"}, "message": {"id": "m1", "text": "after rotation"}}
        ).encode()
        inbound = await http.post(
            f"/webhooks/api/{written['api_inbox']['id']}",
            content=body,
            headers=signing.signed_headers(written["api_inbox"]["secret"], body),
        )
        assert inbound.status_code in (200, 202), inbound.text
        renamed = await http.patch(
            f"/api/v1/inboxes/{written['slack_id']}", json={"name": "Slack 2"}, headers=tenant.headers
        )
        assert renamed.status_code == 200, renamed.text
    engine = create_async_engine(stack_urls.database_url)
    async with cross_tenant_session(create_sessionmaker(engine)) as session:
        inbox = await session.get(Inbox, uuid.UUID(written["slack_id"]))
        assert inbox is not None
        assert decrypt_secrets(only_new, inbox.id, inbox.secrets_encrypted)["bot_token"] == "xoxb-rotate-me-1"
    await engine.dispose()


async def test_values_no_key_opens_are_counted_and_left_alone(stack_urls: StackUrls) -> None:
    engine = create_async_engine(stack_urls.database_url)
    sessionmaker = create_sessionmaker(engine)
    current_id, current_key, current = _key("current")
    older_id, older_key, older = _key("older")
    ring, older_ring = Keyring([(current_id, current_key), (older_id, older_key)]), Keyring([(older_id, older_key)])
    try:
        async with (
            live_server(stack_urls, DATABASE_URL=stack_urls.database_url) as live,
            httpx.AsyncClient(base_url=live.url, timeout=30) as http,
        ):
            tenant = await signup(http)
            inbox = (
                await http.post("/api/v1/inboxes", json={"name": "API", "channel": "api"}, headers=tenant.headers)
            ).json()
        inbox_id = uuid.UUID(inbox["id"])
        # A value under a key the ring does not have, then one under a ring key but bound to another row.
        for blob in (
            Keyring([("lost", os.urandom(32))]).encrypt(b"{}", INBOX_SECRETS.aad(inbox_id)),
            older_ring.encrypt(b"{}", INBOX_SECRETS.aad(uuid.uuid4())),
        ):
            async with cross_tenant_session(sessionmaker) as session, session.begin():
                await session.execute(update(Inbox).where(Inbox.id == inbox_id).values(secrets_encrypted=blob))
            report = (await rekey.rekey(sessionmaker, ring, columns=[INBOX_SECRETS]))[0]
            assert report.failed >= 1
            async with cross_tenant_session(sessionmaker) as session:
                assert await session.scalar(select(Inbox.secrets_encrypted).where(Inbox.id == inbox_id)) == blob
            cli = _run_cli(stack_urls, f"{current},{older}", "--column", INBOX_SECRETS.name)
            assert cli.returncode == 1 and _counts(cli.stdout)[INBOX_SECRETS.name][3] >= 1, cli.stdout
    finally:
        await engine.dispose()
