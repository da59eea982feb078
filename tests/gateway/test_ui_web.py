# ruff: noqa: RUF001 - Greek, Hungarian and Albanian text is the point of these tests
"""The console and the widget in a real headless Chromium (Debian's package, driven by Playwright).

A visitor writes on /demo, an agent in another browser context answers from the console, both sides see
each other live; the widget in Greek keeps Greek texts intact; an admin files an erasure request. Screenshots
land in tests/artifacts/.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.helpers.api import Socket, create_web_inbox, signup
from tests.helpers.browser import ARTIFACTS, new_page, no_js_errors, open_widget, start_chat, visitor_says
from tests.helpers.live import LiveServer


async def test_visitor_and_agent_talk_live(server: LiveServer, client: httpx.AsyncClient, browser: Any) -> None:
    tenant = await signup(client, "Bicycles")
    inbox = await create_web_inbox(client, tenant)

    agent = await new_page(browser)
    await agent.goto(server.url + "/")
    await agent.get_by_label("E-mail").first.fill(tenant.email)
    await agent.get_by_label("Password", exact=True).fill("correct horse battery")
    await agent.get_by_role("button", name="Log in").click()
    await agent.locator("select.presence").wait_for()
    await agent.wait_for_function("document.body.dataset.socket === 'open'")
    await agent.wait_for_function("document.querySelector('select.presence').value === 'online'")

    visitor = await new_page(browser)
    await open_widget(visitor, server, inbox["widget_token"])
    await visitor.screenshot(path=ARTIFACTS / "widget-prechat.png")
    await start_chat(visitor, "Dana", "dana@example.com")
    question = f"My bike has a flat tyre {uuid.uuid4().hex[:6]}"
    await visitor_says(visitor, question)

    # The router assigns the conversation to the only online agent; the console's list updates live.
    item = agent.locator(".conv-list button").first
    await item.wait_for()
    await item.click()
    await agent.locator(".thread .messages li", has_text=question).wait_for()
    # The contact panel shows the visitor's identity on the web channel.
    await agent.locator(".contact dd", has_text="dana@example.com").wait_for()
    await agent.locator(".contact .channels", has_text="Website widget").wait_for()

    # Messages after the conversation is open arrive live too.
    follow_up = "Can someone help today?"
    await visitor_says(visitor, follow_up)
    await agent.locator(".thread .messages li", has_text=follow_up).wait_for()

    answer = "Sure, bring it in at 3 pm."
    await agent.get_by_label("Reply").fill(answer)
    await agent.get_by_role("button", name="Send").click()
    await visitor.locator("#switchboard-widget li.theirs", has_text=answer).wait_for()
    await agent.evaluate("window.scrollTo(0, 0)")
    await agent.screenshot(path=ARTIFACTS / "console.png")
    await visitor.screenshot(path=ARTIFACTS / "widget.png")

    # Offline, a message waits in the widget (and in localStorage); back online it is sent once.
    await visitor.context.set_offline(True)
    offline_text = "Written while offline"
    await visitor_says(visitor, offline_text)
    await visitor.locator("#switchboard-widget li.mine .meta", has_text="sending").wait_for()
    await visitor.context.set_offline(False)
    await visitor.evaluate("window.dispatchEvent(new Event('online'))")
    await agent.locator(".thread .messages li", has_text=offline_text).wait_for()
    await visitor.locator("#switchboard-widget li.mine .meta", has_text="sending").wait_for(state="detached")

    # A reload resumes the session: the history comes back, nothing is duplicated.
    await visitor.reload()
    await visitor.locator("#switchboard-widget .bubble").click()
    await visitor.locator("#switchboard-widget li.theirs", has_text=answer).wait_for()
    assert await visitor.locator("#switchboard-widget li.mine", has_text=question).count() == 1
    assert await visitor.locator("#switchboard-widget li.mine", has_text=offline_text).count() == 1

    # The inbox screen shows the embed snippet and the demo link for this inbox.
    await agent.goto(server.url + "/#/inboxes")
    snippet = agent.locator(f"[data-inbox-id='{inbox['id']}'] pre.snippet")
    assert inbox["widget_token"] in await snippet.inner_text()
    assert "/widget.js" in await snippet.inner_text()
    demo_href = await agent.locator(f"[data-inbox-id='{inbox['id']}'] a.demo-link").get_attribute("href")
    assert demo_href == f"/demo?widget_token={inbox['widget_token']}"
    await agent.screenshot(path=ARTIFACTS / "console-inboxes.png", full_page=True)
    no_js_errors(agent, visitor)
    await agent.context.close()
    await visitor.context.close()


async def test_widget_in_greek(server: LiveServer, client: httpx.AsyncClient, browser: Any) -> None:
    tenant = await signup(client, "Ταβέρνα")
    inbox = await create_web_inbox(client, tenant)
    greeting = "Καλώς ήρθατε στην Ταβέρνα!"
    consent = "Συμφωνώ με την πολιτική απορρήτου της Ταβέρνας."
    response = await client.patch(
        f"/api/v1/inboxes/{inbox['id']}",
        json={
            "settings": {
                "language": "el",
                "consent_required": True,
                "translations": {"el": {"greeting": greeting, "consent_text": consent}},
            }
        },
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    agent_socket = await Socket.open(f"{server.ws_url}/api/v1/ws?token={tenant.token}")
    try:
        # The browser prefers Hungarian; the inbox's language setting wins.
        visitor = await new_page(browser, locale="hu-HU")
        await visitor.goto(f"{server.url}/demo?widget_token={inbox['widget_token']}")
        bubble = visitor.locator("#switchboard-widget .bubble")
        await bubble.wait_for()
        assert await bubble.get_attribute("aria-label") == "Άνοιγμα συνομιλίας"
        await bubble.click()
        widget = visitor.locator("#switchboard-widget")
        await widget.locator("li.system", has_text=greeting).wait_for()
        assert await widget.locator(".consent-text").inner_text() == consent
        assert await widget.locator("button.start").inner_text() == "Έναρξη συνομιλίας"

        # Consent is required: starting without it is refused with a Greek message.
        await widget.locator("input[name=name]").fill("Γιώργος")
        await widget.locator("button.start").click()
        assert (
            await widget.locator(".error").inner_text()
            == "Αποδεχτείτε το κείμενο συγκατάθεσης για να ξεκινήσει η συνομιλία."
        )
        await widget.locator("input[name=consent]").check()
        await widget.locator("button.start").click()
        await widget.locator("textarea[name=message]").wait_for(state="visible")
        assert await widget.locator("textarea[name=message]").get_attribute("placeholder") == "Γράψτε ένα μήνυμα…"

        question = "Καλημέρα! Έχετε τραπέζι για τέσσερα άτομα απόψε; Ευχαριστώ 🙂"
        await visitor_says(visitor, question)
        assigned = await agent_socket.wait_for(lambda f: f.get("type") == "conversation.assigned")
        conversation_id = assigned["conversation_id"]
        stored = (
            await agent_socket.wait_for(
                lambda f: f.get("type") == "message.created" and f["message"]["text"] == question, timeout=30
            )
            if not any(m.get("text") == question for m in assigned.get("messages", []))
            else None
        )
        assert stored is None or stored["conversation_id"] == conversation_id

        answer = "Βεβαίως! Σας περιμένουμε στις εννιά. Καλή όρεξη — Ταβέρνα «Ο Γιάννης»"
        response = await client.post(
            f"/api/v1/conversations/{conversation_id}/messages", json={"text": answer}, headers=tenant.headers
        )
        assert response.status_code == 201, response.text
        await widget.locator("li.theirs .text", has_text=answer).wait_for()
        assert await widget.locator("li.theirs .text").last.inner_text() == answer
        await agent_socket.send({"type": "typing", "conversation_id": conversation_id})
        await widget.locator(".typing", has_text="Ένας εκπρόσωπος πληκτρολογεί…").wait_for()
        await visitor.screenshot(path=ARTIFACTS / "widget-el.png")

        history = await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=tenant.headers)
        texts = [m["text"] for m in history.json()]
        assert question in texts and answer in texts
        no_js_errors(visitor)
        await visitor.context.close()
    finally:
        await agent_socket.close()


async def test_console_speaks_the_browser_language(server: LiveServer, browser: Any) -> None:
    for locale, title in [("hu-HU", "Bejelentkezés"), ("sq-AL", "Hyr"), ("el-GR", "Σύνδεση")]:
        page = await new_page(browser, locale=locale)
        await page.goto(server.url + "/")
        await page.locator("#login-h", has_text=title).wait_for()
        no_js_errors(page)
        await page.context.close()


async def test_console_shows_api_errors(server: LiveServer, browser: Any) -> None:
    page = await new_page(browser)
    await page.goto(server.url + "/")
    await page.get_by_label("E-mail").first.fill("nobody@example.com")
    await page.get_by_label("Password", exact=True).fill("wrong password")
    await page.get_by_role("button", name="Log in").click()
    alert = page.get_by_role("alert")
    await alert.wait_for()
    assert "Error:" in await alert.inner_text()
    no_js_errors(page)
    await page.context.close()


async def test_admin_erasure_request_completes(server: LiveServer, client: httpx.AsyncClient, browser: Any) -> None:
    tenant = await signup(client, "Forget me")
    inbox = await create_web_inbox(client, tenant)
    email = f"erase-{uuid.uuid4().hex[:8]}@example.com"
    session = await client.post(
        "/api/v1/widget/sessions", json={"widget_token": inbox["widget_token"], "name": "Eve", "email": email}
    )
    assert session.status_code == 201, session.text

    admin = await new_page(browser, token=tenant.token)
    await admin.goto(server.url + "/#/privacy")
    await admin.get_by_label("Type").select_option("erasure")
    await admin.locator("form input[name=email]").fill(email)
    await admin.get_by_role("button", name="File request").click()
    detail = admin.locator(".request-detail")
    await detail.locator(".request-status").wait_for()
    approve = detail.locator("button.approve")
    if await approve.count():
        await approve.click()
    await detail.locator(".request-status[data-status=completed]").wait_for(timeout=60_000)
    await detail.locator("button.certificate").click()
    await detail.locator("h3", has_text="Certificate").wait_for()
    await admin.screenshot(path=ARTIFACTS / "console-privacy.png", full_page=True)
    no_js_errors(admin)
    await admin.context.close()


async def test_access_export_link_downloads_the_zip(
    server: LiveServer, client: httpx.AsyncClient, browser: Any
) -> None:
    tenant = await signup(client, "Export me")
    inbox = await create_web_inbox(client, tenant)
    email = f"export-{uuid.uuid4().hex[:8]}@example.com"
    session = await client.post(
        "/api/v1/widget/sessions", json={"widget_token": inbox["widget_token"], "name": "Eve", "email": email}
    )
    assert session.status_code == 201, session.text

    admin = await new_page(browser, token=tenant.token)
    await admin.goto(server.url + "/#/privacy")
    await admin.get_by_label("Type").select_option("access")
    await admin.locator("form input[name=email]").fill(email)
    await admin.get_by_role("button", name="File request").click()
    detail = admin.locator(".request-detail")
    await detail.locator(".request-status").wait_for()
    approve = detail.locator("button.approve")
    if await approve.count():
        await approve.click()
    await detail.locator(".request-status[data-status=completed]").wait_for(timeout=60_000)
    link = detail.get_by_role("link", name="Download")
    href = await link.get_attribute("href")
    assert href is not None and href.startswith("/api/v1/privacy/exports/"), href
    async with admin.expect_download() as started:
        await link.click()
    download = await started.value
    assert (await download.path()).read_bytes()[:2] == b"PK"  # a ZIP
    no_js_errors(admin)
    await admin.context.close()


async def test_every_screen_renders_and_degrades_gracefully(
    server: LiveServer, client: httpx.AsyncClient, browser: Any
) -> None:
    """Screens whose endpoints a build lacks show the API's JSON error in place; none throws."""
    tenant = await signup(client, "Screens")
    inbox = await create_web_inbox(client, tenant)
    page = await new_page(browser, token=tenant.token)
    for screen in [
        "conversations",
        "spam",
        "inboxes",
        "agents",
        "teams",
        "routing",
        "retention",
        "privacy",
        "security",
    ]:
        await page.goto(f"{server.url}/#/{screen}")
        await page.locator(f"nav a[href='#/{screen}'][aria-current=page]").wait_for()
        await page.locator("main h1").wait_for()
        await page.screenshot(path=ARTIFACTS / f"screen-{screen}.png", full_page=True)
    # The inbox screen saves widget settings through the API.
    await page.goto(f"{server.url}/#/inboxes")
    card = page.locator(f"[data-inbox-id='{inbox['id']}']")
    await card.get_by_label("Widget language").select_option("sq")
    await card.get_by_label("Greeting").fill("Mirë se vini!")
    await card.get_by_role("button", name="Save", exact=True).click()
    await page.locator("#toast", has_text="Saved.").wait_for()
    saved = (await client.get(f"/api/v1/inboxes/{inbox['id']}", headers=tenant.headers)).json()["settings"]
    assert saved["language"] == "sq" and saved["greeting"] == "Mirë se vini!"
    no_js_errors(page)
    await page.context.close()
