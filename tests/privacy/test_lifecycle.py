"""Account lifecycle with a driven clock, and agent profile deletion."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.infra.db.base import utcnow
from switchboard_devstack.servers import StackUrls
from switchboard_privacy.ledger import ErasureLedger
from switchboard_privacy.lifecycle.sweep import sweep
from switchboard_privacy.settings import PrivacySettings

from tests.helpers.api import create_agent, create_web_inbox, eventually, signup, visitor_session
from tests.helpers.live import LiveServer, live_server
from tests.helpers.scan import scan_directory


@pytest.fixture(scope="module")
async def system(stack_urls: StackUrls, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    async with live_server(
        stack_urls, DATA_DIR=str(tmp_path_factory.mktemp("lifecycle")), SUBJECT_KEY_CACHE_SECONDS="0"
    ) as live:
        yield live


def privacy_resources(system: LiveServer):  # type: ignore[no-untyped-def]
    resources = system.resources("privacy")
    assert isinstance(resources.settings, PrivacySettings)
    return resources


async def test_trial_suspension_termination_and_purge(system: LiveServer) -> None:
    resources = privacy_resources(system)
    settings = resources.settings
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        account = uuid.UUID(tenant.account_id)
        inbox = await create_web_inbox(client, tenant)
        visitor = await visitor_session(client, inbox["widget_token"], name="Lifecycle Visitor")
        sent = await client.post(
            "/api/v1/widget/messages",
            json={"text": "lifecycle words"},
            headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
        )
        assert sent.status_code == 202, sent.text
        await resources.attachments.put(account, uuid.UUID(visitor["contact_id"]), b"file")
        now = utcnow()

        async def counted() -> bool:
            # The reports' rows of the account: aggregates (report_groups' histograms as bytes) and the rollup
            # consumer's memory, which the purge must take with the rest.
            async with cross_tenant_session(resources.sessionmaker) as session:
                rows = await session.scalar(
                    text("SELECT count(*) FROM report_groups WHERE account_id = :a"),
                    {"a": account},
                )
                memory = await session.scalar(
                    text("SELECT count(*) FROM report_conversations WHERE account_id = :a"), {"a": account}
                )
            return bool(rows and memory)

        await eventually(counted, timeout=60)

        # Day 13: nothing happens; day 15: the trial has expired.
        assert (await sweep(resources, settings, now + timedelta(days=13), only=[account]))["suspended"] == 0
        assert (await sweep(resources, settings, now + timedelta(days=15), only=[account]))["suspended"] == 1
        blocked = await client.get("/api/v1/conversations", headers=tenant.headers)
        assert blocked.status_code == 403
        assert blocked.json()["error"]["code"] == "account_suspended"
        assert "trial_expired" in blocked.json()["error"]["message"]

        # Suspended 60 days: terminated, configuration removed, data kept.
        assert (await sweep(resources, settings, now + timedelta(days=76), only=[account]))["terminated"] == 1
        async with cross_tenant_session(resources.sessionmaker) as session:
            token = await session.scalar(text("SELECT widget_token FROM inboxes WHERE account_id = :a"), {"a": account})
            contacts = await session.scalar(text("SELECT count(*) FROM contacts WHERE account_id = :a"), {"a": account})
        assert token is None and contacts == 1

        # Terminated 30 days: every trace purged; only the audit trail (ids and counts) remains.
        assert (await sweep(resources, settings, now + timedelta(days=107), only=[account]))["purged"] == 1
        async with cross_tenant_session(resources.sessionmaker) as session:
            for table in (
                "accounts",
                "users",
                "contacts",
                "messages",
                "inboxes",
                "subject_keys",
                "report_groups",
                "report_rollups",
                "report_dimensions",
                "report_conversations",
            ):
                column = "id" if table == "accounts" else "account_id"
                left = await session.scalar(
                    text(f"SELECT count(*) FROM {table} WHERE {column} = :a"),  # noqa: S608
                    {"a": account},
                )
                assert left == 0, table
            audit = (
                await session.execute(
                    text("SELECT action, details, created_at FROM privacy_audit_log WHERE account_id = :a ORDER BY id"),
                    {"a": account},
                )
            ).all()
        assert [a.action for a in audit[-3:]] == ["account.suspended", "account.terminated", "account.purged"]
        # The purge says when the last backup copy of the account expires (BACKUP_RETENTION_DAYS after it), and
        # left an erasure-ledger entry (outside the backups) that a restore replays.
        purged = audit[-1]
        expires = datetime.fromisoformat(purged.details["backups_expire_by"])
        assert abs(expires - purged.created_at - timedelta(days=30)) < timedelta(minutes=5)
        ledger = ErasureLedger.from_settings(settings)
        entries = [e for e in await ledger.entries() if ledger.digest(f"account:{account}") in e.subjects]
        assert [(e.kind, e.request_id) for e in entries] == [("account_purge", None)]
        stored = scan_directory(Path(settings.data_dir) / "erasure-ledger")
        assert str(account) not in stored and "account_purge" in stored
        assert not (Path(settings.data_dir) / "attachments" / str(account)).exists()
        keys = [k async for k in resources.redis.scan_iter(match=f"{settings.redis_namespace}:*{account}*")]
        assert keys == []


async def test_billing_failure_suspends_after_grace(system: LiveServer) -> None:
    resources = privacy_resources(system)
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        account = uuid.UUID(tenant.account_id)
        now = utcnow()
        async with cross_tenant_session(resources.sessionmaker) as session, session.begin():
            await session.execute(
                text("UPDATE accounts SET plan = 'paid', billing_failing_since = :t WHERE id = :a"),
                {"t": now, "a": account},
            )
        settings = resources.settings
        assert (await sweep(resources, settings, now + timedelta(days=6), only=[account]))["suspended"] == 0
        assert (await sweep(resources, settings, now + timedelta(days=8), only=[account]))["suspended"] == 1
        refused = await client.post(
            "/api/v1/auth/login", json={"email": tenant.email, "password": "correct horse battery"}
        )
        assert refused.status_code == 403, refused.text
        assert "billing_failed" in refused.json()["error"]["message"]


async def test_agent_deletion_keeps_conversations_with_a_placeholder(system: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        agent_id, agent_token = await create_agent(client, tenant, name="Agent Eraseme")
        as_agent = await client.delete(
            f"/api/v1/privacy/agents/{agent_id}", headers={"Authorization": f"Bearer {agent_token}"}
        )
        assert as_agent.status_code == 403
        deleted = await client.delete(f"/api/v1/privacy/agents/{agent_id}", headers=tenant.headers)
        assert deleted.status_code == 200, deleted.text
        assert deleted.json()["name"] == "Deleted agent"
        assert (
            await client.get("/api/v1/conversations", headers={"Authorization": f"Bearer {agent_token}"})
        ).status_code == 401
        resources = privacy_resources(system)
        async with cross_tenant_session(resources.sessionmaker) as session:
            row = (
                await session.execute(text("SELECT name, email FROM users WHERE id = :u"), {"u": uuid.UUID(agent_id)})
            ).one()
        assert row.name == "Deleted agent" and "Eraseme" not in row.email
        assert (
            await client.delete(f"/api/v1/privacy/agents/{uuid.uuid4()}", headers=tenant.headers)
        ).status_code == 404
