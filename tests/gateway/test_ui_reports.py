"""Reports and SLA in the console, in Chromium: the SLA badge counting down on a conversation, the reports
screen (summary table, charts, figures over time, the live floor following `reports.live` frames) and the
same screen in Greek."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers.api import create_web_inbox, eventually, signup, visitor_session
from tests.helpers.browser import new_page, no_js_errors
from tests.helpers.live import LiveServer


async def console(browser: Any, server: LiveServer, token: str, path: str, **kwargs: Any) -> Any:
    page = await new_page(browser, token=token, **kwargs)
    await page.goto(f"{server.url}/{path}")
    await page.wait_for_function("() => document.body.dataset.socket === 'open'")
    return page


async def test_sla_countdown_reports_screen_and_live_floor(
    server: LiveServer, client: httpx.AsyncClient, browser: Any
) -> None:
    tenant = await signup(client, "Floor")
    inbox = await create_web_inbox(client, tenant)
    policy = await client.post(
        "/api/v1/sla-policies",
        headers=tenant.headers,
        json={"name": "Chat", "first_response_seconds": 3600, "business_hours_only": False, "inbox_ids": [inbox["id"]]},
    )
    assert policy.status_code == 201, policy.text
    # Nobody online: the customer waits in the queue (the live floor counts it).
    await client.put("/api/v1/presence", json={"status": "away"}, headers=tenant.headers)
    visitor = await visitor_session(client, inbox["widget_token"], name="Maria")
    sent = await client.post(
        "/api/v1/widget/messages",
        json={"text": "Where is my parcel?"},
        headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
    )
    cid = sent.json()["conversation_id"]

    async def clocked() -> bool:
        body = (await client.get(f"/api/v1/conversations/{cid}", headers=tenant.headers)).json()
        return bool((body.get("sla") or {}).get("first_response_due_at"))

    await eventually(clocked)
    page = await console(browser, server, tenant.token, f"#/conversations/{cid}")
    badge = page.locator(".thread .badge.sla.countdown")
    await badge.wait_for()
    first = await badge.inner_text()
    assert first.startswith("First response due in 59:") or first.startswith("First response due in 1:00:"), first
    # It counts down each second.
    await page.wait_for_function(
        "(first) => document.querySelector('.thread .badge.sla.countdown').textContent !== first", arg=first
    )

    # The conversation is answered and resolved, so the rollups have something to show.
    assert (await client.post(f"/api/v1/conversations/{cid}/claim", headers=tenant.headers)).status_code in (
        200,
        201,
    ), "claim"
    reply = await client.post(
        f"/api/v1/conversations/{cid}/messages", json={"text": "On its way"}, headers=tenant.headers
    )
    assert reply.status_code == 201, reply.text
    resolved = await client.post(f"/api/v1/conversations/{cid}/resolve", headers=tenant.headers)
    assert resolved.status_code == 200, resolved.text

    async def counted() -> bool:
        report = (await client.get("/api/v1/reports/summary?group_by=channel", headers=tenant.headers)).json()
        return any(g["conversations_resolved"] == 1 and g["messages_out"] == 1 for g in report["groups"])

    await eventually(counted)
    await page.goto(f"{server.url}/#/reports")
    await page.get_by_role("heading", name="Reports", level=1).wait_for()
    await page.get_by_label("Group by").select_option("channel")
    row = page.locator(".report-summary tbody tr", has_text="Website widget")
    await row.wait_for()
    cells = await row.locator("td").all_inner_texts()
    assert cells[1:5] == ["1", "1", "1", "1"], cells  # opened, resolved, messages in, messages out
    assert cells[8] == "100 %", cells  # the first response came within the hour
    chart = page.locator("figure.chart", has_text="First response, median")
    assert await chart.locator(".bars li").count() == 1
    await page.locator("figure.chart.stacked li", has_text="Website widget 1").first.wait_for()

    # The live floor: the owner going online is pushed to the screen as a reports.live frame.
    floor = page.locator(".live-floor")
    await floor.locator("tr", has_text="Away").wait_for()
    await client.put("/api/v1/presence", json={"status": "online"}, headers=tenant.headers)
    await floor.locator("tr", has_text="Online").wait_for()
    no_js_errors(page)
    await page.context.close()

    greek = await console(browser, server, tenant.token, "#/reports", locale="el-GR")
    await greek.get_by_role("heading", name="Αναφορές", level=1).wait_for()
    await greek.get_by_role("heading", name="Ζωντανή εικόνα").wait_for()
    await greek.locator(".report-summary tbody tr").first.wait_for()
    no_js_errors(greek)
    await greek.context.close()


async def test_service_levels_screen_sets_policies_and_surveys(
    server: LiveServer, client: httpx.AsyncClient, browser: Any
) -> None:
    tenant = await signup(client, "Levels")
    inbox = await create_web_inbox(client, tenant)
    page = await console(browser, server, tenant.token, "#/sla")
    await page.get_by_role("heading", name="Service levels", level=1).wait_for()
    form = page.locator("section", has_text="SLA policies").locator("form")
    await form.get_by_label("Name").fill("Chat")
    await form.get_by_label("First response (minutes)").fill("30")
    await form.get_by_label("Resolution (minutes)").fill("1440")
    await form.locator("fieldset", has_text="Inbox").get_by_label(inbox["name"]).check()
    await form.get_by_role("button", name="Add a policy").click()
    row = page.locator(".sla-policies tbody tr", has_text="Chat")
    await row.wait_for()
    assert "30:00" in await row.inner_text() and "24:00:00" in await row.inner_text()
    policies = (await client.get("/api/v1/sla-policies", headers=tenant.headers)).json()
    assert [(p["name"], p["first_response_seconds"], p["resolution_seconds"], p["inbox_ids"]) for p in policies] == [
        ("Chat", 1800, 86400, [inbox["id"]])
    ]

    surveys = page.locator("section", has_text="Satisfaction surveys")
    await surveys.get_by_label("Ask customers to rate resolved conversations").check()
    await surveys.get_by_label("Language of the question").select_option("el")
    await surveys.get_by_label("Ask after (minutes)").fill("5")
    await surveys.get_by_role("button", name="Save").click()

    async def saved() -> dict | None:
        body = (await client.get(f"/api/v1/inboxes/{inbox['id']}/csat", headers=tenant.headers)).json()
        return body if body["enabled"] else None

    body = await eventually(saved)
    assert (body["language"], body["delay_minutes"], body["question"]) == ("el", 5, None)

    await row.get_by_role("button", name="Delete Chat").click()
    await row.wait_for(state="detached")
    assert (await client.get("/api/v1/sla-policies", headers=tenant.headers)).json() == []
    no_js_errors(page)
    await page.context.close()


async def test_service_levels_screen_edits_policies_and_shows_errors(
    server: LiveServer, client: httpx.AsyncClient, browser: Any
) -> None:
    tenant = await signup(client, "Editing")
    website = await create_web_inbox(client, tenant)
    made = await client.post("/api/v1/inboxes", json={"name": "Shop", "channel": "web"}, headers=tenant.headers)
    assert made.status_code == 201, made.text
    shop = made.json()
    made = await client.post("/api/v1/teams", json={"name": "Billing"}, headers=tenant.headers)
    assert made.status_code == 201, made.text
    team = made.json()
    made = await client.post("/api/v1/labels", json={"name": "vip", "color": "#aa0000"}, headers=tenant.headers)
    assert made.status_code == 201, made.text
    for body in (
        {"name": "Chat", "first_response_seconds": 120, "inbox_ids": [website["id"]]},
        {"name": "VIP", "first_response_seconds": 60, "labels": ["vip"]},
    ):
        made = await client.post("/api/v1/sla-policies", headers=tenant.headers, json=body)
        assert made.status_code == 201, made.text
    listed = (await client.get("/api/v1/sla-policies", headers=tenant.headers)).json()
    chat_id = next(p["id"] for p in listed if p["name"] == "Chat")

    async def stored() -> dict:
        return dict((await client.get(f"/api/v1/sla-policies/{chat_id}", headers=tenant.headers)).json())

    page = await console(browser, server, tenant.token, "#/sla")
    await page.get_by_role("button", name="Edit Chat").click()
    editor = page.get_by_role("region", name="Edit the policy Chat")
    await editor.wait_for()
    # The stored policy fills the form.
    assert await editor.get_by_label("First response (minutes)").input_value() == "2"
    assert await editor.get_by_label("Resolution (minutes)").input_value() == ""
    assert await editor.get_by_label("Raise queue priority on breach by").input_value() == "0"
    assert await editor.locator("fieldset", has_text="Inbox").get_by_label("Website").is_checked()
    assert not await editor.locator("fieldset", has_text="Inbox").get_by_label("Shop").is_checked()
    pauses = editor.locator("fieldset", has_text="Clocks pause while")
    assert await pauses.get_by_label("Pending").is_checked() and await pauses.get_by_label("Snoozed").is_checked()

    # Targets, the business-hours pause, the statuses that pause, the priority raise and what it applies to.
    await editor.get_by_label("Name").fill("Chat 2")
    await editor.get_by_label("First response (minutes)").fill("5")
    await editor.get_by_label("Resolution (minutes)").fill("60")
    await editor.get_by_label("Business hours only").check()
    await pauses.get_by_label("Snoozed").uncheck()
    await editor.get_by_label("Raise queue priority on breach by").fill("3")
    await editor.locator("fieldset", has_text="Inbox").get_by_label("Website").uncheck()
    await editor.locator("fieldset", has_text="Inbox").get_by_label("Shop").check()
    await editor.locator("fieldset", has_text="Team").get_by_label("Billing").check()
    await editor.get_by_role("button", name="Save").click()
    await editor.wait_for(state="detached")
    row = page.locator(".sla-policies tbody tr", has_text="Chat 2")
    await row.wait_for()
    assert "Shop, Billing" in await row.inner_text()
    policy = await stored()
    assert (
        policy["name"],
        policy["first_response_seconds"],
        policy["next_response_seconds"],
        policy["resolution_seconds"],
        policy["business_hours_only"],
        policy["pause_statuses"],
        policy["raise_priority"],
        policy["inbox_ids"],
        policy["team_ids"],
        policy["labels"],
    ) == ("Chat 2", 300, None, 3600, True, ["pending"], 3, [shop["id"]], [team["id"]], [])

    # Errors are shown, and nothing is stored: no time at all, a number out of range, a label another policy has.
    await row.get_by_role("button", name="Edit Chat 2").click()
    editor = page.get_by_role("region", name="Edit the policy Chat 2")
    for name in ("First response (minutes)", "Resolution (minutes)"):
        await editor.get_by_label(name).fill("")
    await editor.get_by_role("button", name="Save").click()
    await editor.get_by_role("alert").filter(has_text="Set at least one time").wait_for()
    await editor.get_by_label("First response (minutes)").fill("5")
    await editor.get_by_label("Raise queue priority on breach by").fill("500")
    await editor.get_by_role("button", name="Save").click()
    priority = editor.get_by_label("Raise queue priority on breach by")
    assert await priority.get_attribute("aria-invalid") == "true"
    await priority.fill("3")
    await editor.locator("fieldset", has_text="Label").get_by_label("vip").check()
    await editor.get_by_role("button", name="Save").click()
    await editor.get_by_role("alert").filter(has_text="already has an SLA policy").wait_for()
    assert (await stored()) == policy
    await editor.get_by_role("button", name="Cancel").click()
    await editor.wait_for(state="detached")
    no_js_errors(page)
    await page.context.close()

    greek = await console(browser, server, tenant.token, "#/sla", locale="el-GR")
    await greek.get_by_role("button", name="Επεξεργασία Chat 2").click()
    await greek.get_by_role("region", name="Επεξεργασία της πολιτικής Chat 2").wait_for()
    no_js_errors(greek)
    await greek.context.close()
