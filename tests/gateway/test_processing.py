"""Sub-processors and the record of processing follow the account's configuration: nothing configured, no
outside processor; each Slack, Messenger, bot, webhook and callback adds its processor with purpose and
location; the installation's S3 attachment and backup storage appear with the endpoint's region."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from switchboard_devstack.servers import StackUrls

from tests.fakes.graph import FakeGraph
from tests.fakes.slack import FakeSlack
from tests.helpers.api import create_agent, create_web_inbox, signup
from tests.helpers.browser import new_page, no_js_errors
from tests.helpers.live import LiveServer, live_server
from tests.helpers.messenger import messenger_inbox
from tests.helpers.slack import new_team, slack_inbox


@pytest.fixture(scope="module")
async def system(stack_urls: StackUrls, fake_slack: FakeSlack, fake_graph: FakeGraph) -> AsyncIterator[LiveServer]:
    slack, graph = fake_slack, fake_graph
    # S3 is configured but never called by these tests: the lists are derived from settings and rows.
    async with live_server(
        stack_urls,
        SLACK_API_URL=slack.url,
        GRAPH_API_URL=graph.url,
        DIALOGFLOW_API_URL="https://europe-west1-dialogflow.googleapis.com",
        ATTACHMENTS_BACKEND="s3",
        S3_BUCKET="acme-attachments",
        S3_REGION="eu-central-1",
        BACKUP_TARGET="s3://acme-backups/eu",
        OUTBOUND_ALLOW_PRIVATE="true",
    ) as live:
        yield live


def by_id(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in body["subprocessors"]}


async def test_subprocessors_follow_the_configuration(
    system: LiveServer, fake_slack: FakeSlack, fake_graph: FakeGraph
) -> None:
    slack, graph = fake_slack, fake_graph
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        first = await client.get("/api/v1/account/subprocessors", headers=tenant.headers)
        assert first.status_code == 200, first.text
        # Only the installation's own storage before anything is configured.
        assert set(by_id(first.json())) == {"s3", "s3-backups"}
        s3 = by_id(first.json())["s3"]
        assert s3["name"] == "Amazon Web Services, Inc." and s3["location"] == "AWS region eu-central-1"
        assert s3["endpoint"] == "s3.eu-central-1.amazonaws.com" and s3["used_by"][0]["name"] == "acme-attachments"

        team = new_team()
        await slack_inbox(client, tenant, team, slack, name="Support Slack")
        page = str(uuid.uuid4().int)[:15]
        await messenger_inbox(client, tenant, page, graph)
        web = await create_web_inbox(client, tenant)
        bot = await client.put(
            f"/api/v1/inboxes/{web['id']}/bot",
            json={"project_id": "acme-bot", "client_id": "cid", "client_secret": "cs", "refresh_token": "rt"},
            headers=tenant.headers,
        )
        assert bot.status_code == 200, bot.text
        hook = await client.post(
            "/api/v1/webhooks",
            json={"url": "http://127.0.0.2:9/crm", "events": ["conversation.resolved"]},
            headers=tenant.headers,
        )
        assert hook.status_code == 201, hook.text
        api = await client.post(
            "/api/v1/inboxes",
            json={"name": "Shop", "channel": "api", "settings": {"callback_url": "http://127.0.0.3:9/replies"}},
            headers=tenant.headers,
        )
        assert api.status_code == 201, api.text

        listed = by_id((await client.get("/api/v1/account/subprocessors", headers=tenant.headers)).json())
        assert set(listed) == {"s3", "s3-backups", "slack", "meta", "google", "webhook:127.0.0.2", "webhook:127.0.0.3"}
        assert listed["slack"]["name"] == "Slack Technologies, LLC"
        assert [u["name"] for u in listed["slack"]["used_by"]] == ["Support Slack"]
        assert listed["meta"]["name"] == "Meta Platforms Ireland Limited" and "Ireland" in listed["meta"]["location"]
        assert listed["google"]["location"] == "Google Cloud region europe-west1"
        assert listed["google"]["used_by"] == [{"kind": "bot", "id": web["id"], "name": web["name"]}]
        assert listed["webhook:127.0.0.2"]["used_by"][0]["kind"] == "webhook"
        assert listed["webhook:127.0.0.3"]["used_by"][0] == {"kind": "inbox", "id": api.json()["id"], "name": "Shop"}
        for processor in listed.values():
            assert processor["purpose"] and processor["location"] and processor["data_categories"]

        # Another account's configuration never shows up here.
        other = await signup(client)
        assert set(by_id((await client.get("/api/v1/account/subprocessors", headers=other.headers)).json())) == {
            "s3",
            "s3-backups",
        }

        retention = await client.put(
            "/api/v1/privacy/retention", json={"messages": 90, "inactive_contacts": 365}, headers=tenant.headers
        )
        assert retention.status_code == 200, retention.text
        record = await client.get("/api/v1/account/processing-record", headers=tenant.headers)
        assert record.status_code == 200, record.text
        body = record.json()
        assert body["format"] == "switchboard.processing-record"
        assert body["controller"]["account_id"] == tenant.account_id
        assert body["controller"]["contacts"][0]["email"] == tenant.email
        conversations = body["activities"][0]
        assert conversations["retention"]["account_policies_days"] == {"messages": 90, "inactive_contacts": 365}
        assert "message text" in conversations["data_categories"] and conversations["purposes"]
        assert set(conversations["recipients"]) == set(listed)
        assert {r["id"] for r in body["recipients"]} == set(listed)
        assert {t["recipient"] for t in body["international_transfers"]} == set(listed)
        assert body["erasure"]["backups"]["retention_days"] == 30
        assert body["security_measures"]

        _, agent_token = await create_agent(client, tenant)
        for path in ("/api/v1/account/subprocessors", "/api/v1/account/processing-record"):
            refused = await client.get(path, headers={"Authorization": f"Bearer {agent_token}"})
            assert refused.status_code == 403, path
            assert (await client.get(path)).status_code == 401, path


async def test_the_admin_console_shows_them_and_downloads_the_record(system: LiveServer, browser: Any) -> None:
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client, "Console processors")
        hook = await client.post(
            "/api/v1/webhooks",
            json={"url": "http://127.0.0.4:9/crm", "events": ["conversation.resolved"]},
            headers=tenant.headers,
        )
        assert hook.status_code == 201, hook.text
    for locale, heading in (("el-GR", "Υπο-εκτελούντες την επεξεργασία"), ("en-US", "Sub-processors")):
        page = await new_page(browser, token=tenant.token, locale=locale)
        await page.goto(f"{system.url}/#/privacy")
        await page.get_by_role("heading", name=heading).wait_for()
        row = page.locator("tr", has=page.locator(".processor[data-processor='webhook:127.0.0.4']"))
        await row.wait_for()
        assert "Outgoing webhook (account subscription)" in await row.inner_text()
        assert await page.locator(".processor[data-processor='s3']").inner_text() == "Amazon Web Services, Inc."
        if locale == "en-US":
            async with page.expect_download() as download:
                await page.get_by_role("button", name="Download the record of processing (Art. 30)").click()
            path = await (await download.value).path()
            record = json.loads(Path(path).read_text("utf-8"))
            assert record["controller"]["account_id"] == tenant.account_id
            assert "webhook:127.0.0.4" in {r["id"] for r in record["recipients"]}
        no_js_errors(page)
        await page.context.close()
