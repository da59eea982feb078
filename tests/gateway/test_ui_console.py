"""The console as agents work in it (issue 22), in Chromium: forms that keep what they do not show, presence
that survives a reload, screens that follow live events, a layout that holds with long words at laptop and
desktop sizes, errors next to the field in the console's language, the queue first, transfer notes,
keyboard use, and the widget's checks and notices."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers.api import Socket, create_agent, create_web_inbox, eventually, signup, visitor_session
from tests.helpers.browser import ARTIFACTS, new_page, no_js_errors, open_widget, start_chat, visitor_says
from tests.helpers.live import LiveServer


async def visitor_writes(client: httpx.AsyncClient, inbox: dict[str, Any], text: str, **fields: Any) -> dict[str, Any]:
    session = await visitor_session(client, inbox["widget_token"], **fields)
    response = await client.post(
        "/api/v1/widget/messages", json={"text": text}, headers={"Authorization": f"Bearer {session['visitor_token']}"}
    )
    assert response.status_code == 202, response.text
    return {**session, **response.json()}


async def console(browser: Any, server: LiveServer, token: str, path: str = "#/conversations", **kwargs: Any) -> Any:
    page = await new_page(browser, token=token, **kwargs)
    await page.goto(f"{server.url}/{path}")
    await page.wait_for_function("() => document.body.dataset.socket === 'open'")
    return page


async def test_agent_form_keeps_teams_it_did_not_change(
    server: LiveServer, client: httpx.AsyncClient, browser: Any
) -> None:
    tenant = await signup(client, "Forms")
    team = (await client.post("/api/v1/teams", json={"name": "Billing"}, headers=tenant.headers)).json()
    agent_id, _ = await create_agent(client, tenant, name="Maria")
    await client.patch(
        f"/api/v1/agents/{agent_id}", json={"teams": [team["id"]], "skills": ["fr"]}, headers=tenant.headers
    )
    page = await console(browser, server, tenant.token, "#/agents")
    editor = page.locator(f"details.edit-agent[data-agent-id='{agent_id}']")
    await editor.locator("summary").click()
    # The stored team is ticked, by name (no ids on screen).
    assert await editor.get_by_label("Billing").is_checked()
    await editor.get_by_label("Max. conversations").fill("4")
    await editor.get_by_role("button", name="Save").click()
    await page.locator("#toast", has_text="Saved.").wait_for()
    stored = (await client.get(f"/api/v1/agents/{agent_id}", headers=tenant.headers)).json()
    assert stored["max_conversations"] == 4
    assert stored["teams"] == [team["id"]] and stored["skills"] == ["fr"]
    # The Teams screen: members picked from a list of agents by name; no raw keys or ids.
    await page.goto(f"{server.url}/#/teams")
    await page.get_by_role("cell", name="Maria", exact=True).wait_for()
    text = await page.locator("main").inner_text()
    assert "strategy" not in text and "members" not in text and team["id"] not in text
    no_js_errors(page)
    await page.context.close()


async def test_away_survives_a_reload(server: LiveServer, client: httpx.AsyncClient, browser: Any) -> None:
    tenant = await signup(client, "Presence")
    page = await console(browser, server, tenant.token)
    await page.wait_for_function("() => document.querySelector('select.presence').value === 'online'")
    await page.locator("select.presence").select_option("away")
    try:
        await page.locator("#toast", has_text="Away").wait_for()
    except Exception as missing:  # what the console said instead, so a rare failure can be read
        shown = await page.evaluate("() => document.querySelector('#toast')?.textContent")
        raise AssertionError(f"no 'Away' toast; the toast says {shown!r}") from missing
    await page.reload()
    await page.wait_for_function("() => document.body.dataset.socket === 'open'")
    await page.wait_for_function("() => document.querySelector('select.presence').value === 'away'")
    me = (await client.get("/api/v1/me", headers=tenant.headers)).json()
    assert me["status"] == "away"
    no_js_errors(page)
    await page.context.close()


async def test_open_conversation_and_menus_follow_live_events(
    server: LiveServer, client: httpx.AsyncClient, browser: Any
) -> None:
    tenant = await signup(client, "Live")
    inbox = await create_web_inbox(client, tenant)
    await client.put("/api/v1/presence", json={"status": "away"}, headers=tenant.headers)
    colleague_id, colleague_token = await create_agent(client, tenant, name="Nikos")
    colleague_headers = {"Authorization": f"Bearer {colleague_token}"}
    colleague = await Socket.open(f"{server.ws_url}/api/v1/ws?token={colleague_token}")
    await colleague.wait_for(lambda f: f["type"] == "session.ready")
    # The owner's console first: its socket restores the owner's Away; Nikos is the one who gets chats.
    owner = await console(browser, server, tenant.token)
    await owner.wait_for_function("() => document.querySelector('select.presence').value === 'away'")
    written = await visitor_writes(client, inbox, "Where is my parcel?", name="Eleni")
    cid = written["conversation_id"]

    async def assigned() -> bool:
        got = (await client.get(f"/api/v1/conversations/{cid}", headers=tenant.headers)).json()
        return got.get("assignee_id") == colleague_id

    await eventually(assigned)
    item = owner.locator(f".conv-list button[data-conversation-id='{cid}']")
    await item.wait_for()
    # Unread until opened; its accessible name says who and how many.
    assert "unread" in (await item.get_attribute("class") or "")
    assert "Eleni" in (await item.get_attribute("aria-label") or "")
    await item.click()
    await owner.locator(".thread .messages li", has_text="Where is my parcel?").wait_for()
    await owner.locator(f".conv-list button[data-conversation-id='{cid}']:not(.unread)").wait_for()
    # Focus lands in the reply box.
    assert await owner.evaluate("document.activeElement.id") == "reply-text"
    await owner.locator(".thread-head strong", has_text="Nikos").wait_for()
    # The assign menu defaults to the current assignee and shows presence, live.
    await owner.locator("details.assign-menu summary").click()
    select = owner.locator("details.assign-menu select[name=agent_id]")
    assert await select.input_value() == colleague_id
    await owner.locator("details.assign-menu option", has_text="Nikos (Online)").wait_for(state="attached")
    await client.put("/api/v1/presence", json={"status": "away"}, headers=colleague_headers)
    await owner.locator("details.assign-menu option", has_text="Nikos (Away)").wait_for(state="attached")
    # A colleague resolves it: the open conversation says so without a reload.
    resolved = await client.post(f"/api/v1/conversations/{cid}/resolve", headers=colleague_headers)
    assert resolved.status_code == 200
    await owner.locator(".thread-head .status-badge[data-status=resolved]").wait_for()
    await owner.locator("form.reopen button").wait_for()
    no_js_errors(owner)
    await owner.context.close()
    await colleague.close()


async def test_layout_holds_a_long_word_and_keeps_the_reply_box_in_view(
    server: LiveServer, client: httpx.AsyncClient, browser: Any
) -> None:
    tenant = await signup(client, "Layout")
    inbox = await create_web_inbox(client, tenant)
    long_url = "https://shop.example.com/" + "a" * 400
    written = await visitor_writes(client, inbox, long_url, name="Lena")
    cid = written["conversation_id"]
    for index in range(30):
        response = await client.post(
            f"/api/v1/conversations/{cid}/messages", json={"text": f"line {index}"}, headers=tenant.headers
        )
        assert response.status_code == 201
    for width, height in [(1366, 768), (1920, 1080)]:
        page = await new_page(browser, token=tenant.token)
        await page.set_viewport_size({"width": width, "height": height})
        await page.goto(f"{server.url}/#/conversations/{cid}")
        await page.locator(".thread .messages li", has_text="line 29").wait_for()
        sizes = await page.evaluate(
            """() => {
              const log = document.querySelector('.thread .messages');
              const reply = document.querySelector('form.reply').getBoundingClientRect();
              const contact = document.querySelector('.contact').getBoundingClientRect();
              const root = document.documentElement;
              return {pageWidth: root.scrollWidth, pageHeight: root.scrollHeight, replyBottom: reply.bottom,
                      replyTop: reply.top, contactRight: contact.right,
                      logScrolls: log.scrollHeight > log.clientHeight};
            }"""
        )
        assert sizes["pageWidth"] <= width, sizes
        assert sizes["pageHeight"] <= height, sizes
        assert sizes["replyTop"] > 0 and sizes["replyBottom"] <= height, sizes
        assert sizes["contactRight"] <= width, sizes
        assert sizes["logScrolls"], sizes
        await page.screenshot(path=ARTIFACTS / f"console-{width}x{height}.png")
        no_js_errors(page)
        await page.context.close()


async def test_errors_are_shown_next_to_the_field_in_the_console_language(
    server: LiveServer, client: httpx.AsyncClient, browser: Any
) -> None:
    page = await new_page(browser)
    await page.goto(server.url + "/")
    signup_form = page.locator("section[aria-labelledby=signup-h] form")
    # The browser-side check mirrors the server's rule (8 characters), in the console's language.
    password = signup_form.locator("input[name=password]")
    assert await password.get_attribute("minlength") == "8"
    assert await signup_form.locator("input[name=email]").get_attribute("type") == "email"
    await signup_form.locator("input[name=account_name]").fill("   ")
    await signup_form.locator("input[name=email]").fill("maria@example.com")
    await password.fill("short")
    await signup_form.get_by_role("button", name="Sign up").click()
    await signup_form.locator(".field-error", has_text="Fill in this field.").wait_for()
    await signup_form.locator(".field-error", has_text="At least 8 characters.").wait_for()
    assert await password.get_attribute("aria-invalid") == "true"
    # What only the server knows (a reserved domain the browser accepts) comes back per field.
    await signup_form.locator("input[name=account_name]").fill("Reserved")
    await password.fill("long enough password")
    await signup_form.locator("input[name=email]").fill("maria@example.invalid")
    await signup_form.get_by_role("button", name="Sign up").click()
    email_error = signup_form.locator("input[name=email] ~ .field-error")
    await email_error.wait_for()
    assert "valid e-mail" in await email_error.inner_text()
    assert "validation_error" not in await page.locator("main").inner_text()
    no_js_errors(page)
    await page.context.close()

    greek = await new_page(browser, locale="el-GR")
    await greek.goto(server.url + "/")
    form = greek.locator("section[aria-labelledby=signup-h] form")
    await form.locator("input[name=account_name]").fill("Ταβέρνα")
    await form.locator("input[name=email]").fill("giorgos@example.invalid")
    await form.locator("input[name=password]").fill("σωστός κωδικός 1")
    await form.locator("button[type=submit]").click()
    await form.locator("input[name=email] ~ .field-error", has_text="Εισαγάγετε έγκυρη διεύθυνση email").wait_for()
    assert await greek.locator("a.skip").inner_text() == "Μετάβαση στο περιεχόμενο"
    assert "Switchboard" in await greek.title() and "Σύνδεση" in await greek.title()
    await greek.screenshot(path=ARTIFACTS / "console-errors-el.png")
    no_js_errors(greek)
    await greek.context.close()


async def test_a_too_long_reply_is_refused_in_words(
    server: LiveServer, client: httpx.AsyncClient, browser: Any
) -> None:
    tenant = await signup(client, "Long")
    inbox = await create_web_inbox(client, tenant)
    written = await visitor_writes(client, inbox, "hello", name="Ola")
    page = await console(browser, server, tenant.token, f"#/conversations/{written['conversation_id']}")
    reply = page.get_by_label("Reply")
    await reply.fill("y" * 20_000)
    assert len(await reply.input_value()) == 20_000  # nothing cut
    await page.get_by_role("button", name="Send").click()
    await page.locator("form.reply .field-error", has_text="too long: 20,000 characters").wait_for()
    messages = (
        await client.get(f"/api/v1/conversations/{written['conversation_id']}/messages", headers=tenant.headers)
    ).json()
    assert [m["text"] for m in messages] == ["hello"]
    no_js_errors(page)
    await page.context.close()


async def test_queued_conversations_come_first_with_their_wait(
    server: LiveServer, client: httpx.AsyncClient, browser: Any
) -> None:
    tenant = await signup(client, "Queue")
    inbox = await create_web_inbox(client, tenant)
    # The only agent chose Away (and stays so when the console connects): the customer waits in the queue.
    await client.put("/api/v1/presence", json={"status": "away"}, headers=tenant.headers)
    written = await visitor_writes(client, inbox, "Is anyone there?", name="Petra")
    page = await new_page(browser, token=tenant.token)
    await page.goto(f"{server.url}/#/conversations")
    first = page.locator(".conv-list li button").first
    await first.wait_for()
    assert await first.get_attribute("data-conversation-id") == written["conversation_id"]
    assert await first.locator(".badge").inner_text() == "Queued"
    assert "waiting" in await first.locator(".wait").inner_text()
    assert "Petra" in await first.locator(".name").inner_text()
    assert "Is anyone there?" in await first.locator(".preview").inner_text()
    no_js_errors(page)
    await page.context.close()


async def test_transfer_note_is_shown_to_the_receiving_agent(
    server: LiveServer, client: httpx.AsyncClient, browser: Any
) -> None:
    tenant = await signup(client, "Notes")
    inbox = await create_web_inbox(client, tenant)
    receiver_id, receiver_token = await create_agent(client, tenant, name="Zsofia")
    written = await visitor_writes(client, inbox, "I need a refund", name="Anna")
    cid = written["conversation_id"]
    sender = await console(browser, server, tenant.token, f"#/conversations/{cid}")
    await sender.locator("details.transfer-menu summary").click()
    menu = sender.locator("details.transfer-menu")
    await menu.locator("select[name=agent_id]").select_option(receiver_id)
    await menu.locator("textarea[name=note]").fill("Refund approved, please confirm with her")
    await menu.get_by_role("button", name="Transfer").click()
    await sender.locator("#toast", has_text="Done.").wait_for()
    receiver = await console(browser, server, receiver_token, f"#/conversations/{cid}")
    note = receiver.locator(".thread .messages li.note")
    await note.wait_for()
    assert "Refund approved, please confirm with her" in await note.inner_text()
    history = await client.get(
        "/api/v1/widget/messages", headers={"Authorization": f"Bearer {written['visitor_token']}"}
    )
    assert all("Refund approved" not in (m["text"] or "") for m in history.json())
    no_js_errors(sender, receiver)
    await sender.context.close()
    await receiver.context.close()


async def test_an_open_menu_survives_a_live_update(server: LiveServer, client: httpx.AsyncClient, browser: Any) -> None:
    tenant = await signup(client, "Redraw")
    inbox = await create_web_inbox(client, tenant)
    receiver_id, _ = await create_agent(client, tenant, name="Ilir")
    cid = (await visitor_writes(client, inbox, "Where is my parcel?", name="Besa"))["conversation_id"]
    page = await console(browser, server, tenant.token, f"#/conversations/{cid}")
    await page.locator("details.transfer-menu summary").click()
    menu = page.locator("details.transfer-menu")
    await menu.locator("select[name=agent_id]").select_option(receiver_id)
    await menu.locator("textarea[name=note]").fill("Half typed")
    # Meanwhile the conversation changes elsewhere: the live frame redraws the thread's header and actions.
    pending = await client.post(f"/api/v1/conversations/{cid}/pending", headers=tenant.headers)
    assert pending.status_code == 200, pending.text
    await page.locator(".status-badge[data-status=pending]").wait_for()
    assert await menu.evaluate("(details) => details.open")
    assert await menu.locator("textarea[name=note]").input_value() == "Half typed"
    assert await menu.locator("select[name=agent_id]").input_value() == receiver_id
    no_js_errors(page)
    await page.context.close()


async def test_keyboard_only_agent(server: LiveServer, client: httpx.AsyncClient, browser: Any) -> None:
    tenant = await signup(client, "Keys")
    inbox = await create_web_inbox(client, tenant)
    first = await visitor_writes(client, inbox, "first customer", name="Alpha")
    second = await visitor_writes(client, inbox, "second customer", name="Beta")
    page = await new_page(browser)
    await page.goto(server.url + "/")
    await page.get_by_label("E-mail").first.fill(tenant.email)
    await page.get_by_label("Password", exact=True).fill("correct horse battery")
    await page.keyboard.press("Enter")
    # After login, focus is on the main heading.
    await page.wait_for_function("() => document.activeElement && document.activeElement.tagName === 'H1'")
    await page.locator(".conv-list li button").nth(1).wait_for()
    await page.keyboard.press("j")
    await page.locator(".thread .messages li", has_text="first customer").wait_for()
    await page.keyboard.press("j")
    await page.locator(".thread .messages li", has_text="second customer").wait_for()
    await page.keyboard.press("k")
    await page.locator(".thread .messages li", has_text="first customer").wait_for()
    await page.keyboard.press("r")
    assert await page.evaluate("document.activeElement.id") == "reply-text"
    await page.keyboard.type("Typed without a mouse")
    await page.keyboard.press("Enter")
    await page.locator(".thread .messages li.outbound", has_text="Typed without a mouse").wait_for()
    await page.keyboard.press("Escape")
    await page.keyboard.press("e")
    await page.locator(".thread-head .status-badge[data-status=resolved]").wait_for()
    # The focus ring is visible: at least 3:1 against the page (#a34e00 on white is 5.8:1).
    ring = await page.evaluate(
        "[...document.styleSheets].flatMap(s => [...s.cssRules])"
        ".find(r => r.selectorText === ':focus-visible').style.outlineColor"
    )
    assert ring == "rgb(163, 78, 0)"
    resolved = (await client.get(f"/api/v1/conversations/{first['conversation_id']}", headers=tenant.headers)).json()
    assert resolved["status"] == "resolved"
    assert second["conversation_id"] != first["conversation_id"]
    no_js_errors(page)
    await page.context.close()


async def test_widget_checks_and_tells_the_visitor(server: LiveServer, client: httpx.AsyncClient, browser: Any) -> None:
    tenant = await signup(client, "Widget")
    inbox = await create_web_inbox(client, tenant)
    await client.patch(
        f"/api/v1/inboxes/{inbox['id']}", json={"settings": {"display_name": "Acme help"}}, headers=tenant.headers
    )
    visitor = await new_page(browser)
    await open_widget(visitor, server, inbox["widget_token"])
    widget = visitor.locator("#switchboard-widget")
    assert await widget.locator("#sb-title").inner_text() == "Acme help"
    await widget.locator("input[name=name]").fill("Maria")
    await widget.locator("input[name=email]").fill("maria@")
    await widget.locator("button.start").click()
    await widget.locator(".error", has_text="valid e-mail").wait_for()
    await start_chat(visitor, "Maria", "maria@example.com")
    # Nobody online: the visitor is told their place in the queue.
    await visitor_says(visitor, "hello?")
    await widget.locator(".status", has_text="number 1 in the queue").wait_for()
    composer = widget.locator("textarea[name=message]")
    await composer.fill("z" * 20_000)
    assert len(await composer.input_value()) == 20_000
    await composer.press("Enter")
    await widget.locator(".error", has_text="too long").wait_for()
    assert len(await composer.input_value()) == 20_000  # kept for the visitor to shorten
    await composer.fill("")
    # An agent comes online and takes it: the queue line goes; replies are marked read once seen.
    owner = await console(browser, server, tenant.token)
    await widget.locator(".status").wait_for(state="hidden")
    conversations = (await client.get("/api/v1/conversations", headers=tenant.headers)).json()
    cid = conversations[0]["id"]
    reply = await client.post(
        f"/api/v1/conversations/{cid}/messages", json={"text": "Hi Maria"}, headers=tenant.headers
    )
    await widget.locator("li.theirs", has_text="Hi Maria").wait_for()

    async def read() -> bool:
        stored = (await client.get(f"/api/v1/conversations/{cid}/messages", headers=tenant.headers)).json()
        return any(m["id"] == reply.json()["id"] and m["delivery_status"] == "read" for m in stored)

    await eventually(read)
    await client.post(f"/api/v1/conversations/{cid}/resolve", headers=tenant.headers)
    await widget.locator("li.system", has_text="conversation was closed").wait_for()
    await visitor_says(visitor, "one more question")

    async def follow_up() -> dict[str, Any] | None:
        rows = (await client.get("/api/v1/conversations?status=open", headers=tenant.headers)).json()
        return next((r for r in rows if r.get("previous_conversation_id") == cid), None)

    newer = await eventually(follow_up)
    await owner.goto(f"{server.url}/#/conversations/{newer['id']}")
    await owner.locator("a.previous-link").wait_for()
    await owner.locator(".contact ul.previous a", has_text="").first.wait_for()
    await visitor.screenshot(path=ARTIFACTS / "widget-resolved.png")
    no_js_errors(visitor, owner)
    await visitor.context.close()
    await owner.context.close()


async def test_console_in_four_languages(server: LiveServer, client: httpx.AsyncClient, browser: Any) -> None:
    """The working console in en, el, hu and sq (the README's screenshots come from here)."""
    tenant = await signup(client, "Acme Bicycles")
    inbox = await create_web_inbox(client, tenant)
    await client.patch(f"/api/v1/inboxes/{inbox['id']}", json={"name": "Website"}, headers=tenant.headers)
    await client.put("/api/v1/presence", json={"status": "away"}, headers=tenant.headers)
    colleague_id, _ = await create_agent(client, tenant, name="Nikos Papadopoulos")
    await visitor_writes(client, inbox, "Hello, is the blue city bike in stock in size M?", name="Petra Kovács")
    chat = await visitor_writes(client, inbox, "My order #4471 has not arrived yet.", name="Eleni Georgiou")
    cid = chat["conversation_id"]
    headers = tenant.headers
    await client.post(f"/api/v1/conversations/{cid}/assign", json={"agent_id": tenant.owner_id}, headers=headers)
    await client.post(
        f"/api/v1/conversations/{cid}/messages",
        json={"text": "Sorry about that! Let me check with the courier."},
        headers=headers,
    )
    await client.post(
        f"/api/v1/conversations/{cid}/assign",
        json={"agent_id": colleague_id, "note": "Courier says Thursday; please call her back."},
        headers=headers,
    )
    await client.post(f"/api/v1/conversations/{cid}/assign", json={"agent_id": tenant.owner_id}, headers=headers)
    for locale, nav in [
        ("en-US", "Conversations"),
        ("el-GR", "Συνομιλίες"),
        ("hu-HU", "Beszélgetések"),
        ("sq-AL", "Bisedat"),
    ]:
        page = await new_page(browser, token=tenant.token, locale=locale)
        await page.set_viewport_size({"width": 1366, "height": 768})
        await page.goto(f"{server.url}/#/conversations/{cid}")
        await page.locator("main h1", has_text=nav).wait_for()
        await page.locator(".thread .messages li.note").wait_for()
        await page.locator(".contact ul.previous, .contact p.muted").first.wait_for()
        await page.screenshot(path=ARTIFACTS / f"console-{locale[:2]}.png")
        no_js_errors(page)
        await page.context.close()


async def test_a_busy_server_is_asked_again_after_its_retry_after(
    server: LiveServer, client: httpx.AsyncClient, browser: Any
) -> None:
    """A read (or an idempotent write) answered 503 `overloaded` with Retry-After is sent again after that wait,
    instead of leaving the screen empty (an empty agents list left "@" mentions with nothing to suggest) or the
    change undone (a refused presence change)."""
    tenant = await signup(client, "Busy")
    await create_agent(client, tenant, name="Zoe Retry")
    page = await new_page(browser, token=tenant.token)
    refused: list[str] = []

    def busy_once(method: str) -> Any:
        """A route handler that refuses the first ``method`` request as a busy server does, then lets all pass."""
        done = False

        async def handle(route: Any) -> None:
            nonlocal done
            if route.request.method == method and not done:
                done = True
                refused.append(route.request.url)
                await route.fulfill(
                    status=503,
                    headers={"Retry-After": "1", "content-type": "application/json"},
                    body='{"error": {"code": "overloaded", "message": "The server is busy: try again shortly."}}',
                )
            else:
                await route.continue_()

        return handle

    await page.route("**/api/v1/agents", busy_once("GET"))
    await page.goto(f"{server.url}/#/agents")
    await page.locator("td", has_text="Zoe Retry").wait_for()
    assert len(refused) == 1

    # An idempotent write too: the presence change refused once is sent again, and holds.
    await page.route("**/api/v1/presence", busy_once("PUT"))
    await page.wait_for_function("() => document.body.dataset.socket === 'open'")
    await page.locator("select.presence").select_option("away")
    await page.locator("#toast", has_text="Away").wait_for()
    assert len(refused) == 2
    me = (await client.get("/api/v1/me", headers=tenant.headers)).json()
    assert me["status"] == "away"
    no_js_errors(page)
    await page.context.close()
