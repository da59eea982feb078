"""The UI's server side without a browser: assets, translations, widget config, contacts, typing relay."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from tests.helpers.api import Socket, create_web_inbox, signup, visitor_session
from tests.helpers.live import LiveServer

WEB = Path(__file__).parents[2] / "services/gateway/src/switchboard_gateway/web"
I18N = WEB / "i18n"
LANGUAGES = ("en", "el", "hu", "sq")


def test_every_language_has_every_key() -> None:
    english = json.loads((I18N / "en.json").read_text("utf-8"))
    for code in LANGUAGES:
        strings = json.loads((I18N / f"{code}.json").read_text("utf-8"))
        assert set(strings) == set(english), code
        assert all(isinstance(v, str) and v.strip() for v in strings.values()), code
        # Placeholders survive translation.
        for key, text in english.items():
            assert set(re.findall(r"{\w+}", text)) == set(re.findall(r"{\w+}", strings[key])), (code, key)


def test_every_literal_key_in_the_code_is_translated() -> None:
    english = json.loads((I18N / "en.json").read_text("utf-8"))
    console = " ".join(p.read_text("utf-8") for p in (WEB / "static/console").glob("*.js"))
    used = set(re.findall(r'\bt\("([a-z_]+\.[a-z_.]+)"', console))
    widget = (WEB / "static/widget.js").read_text("utf-8")
    used |= {f"widget.{k}" for k in re.findall(r'\bt\("([a-z_]+)"', widget)}
    assert used, "no keys found: the pattern no longer matches the code"
    assert used - set(english) == set()


async def test_pages_and_assets_are_served(client: httpx.AsyncClient) -> None:
    for path, kind in [
        ("/", "text/html"),
        ("/demo", "text/html"),
        ("/widget.js", "text/javascript"),
        ("/console/app.js", "text/javascript"),
        ("/console/style.css", "text/css"),
        ("/i18n/el.json", "application/json"),
    ]:
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith(kind), path
    assert "script-src 'self'" in (await client.get("/")).headers["content-security-policy"]
    assert sorted((await client.get("/i18n/index.json")).json()) == sorted(LANGUAGES)
    assert (await client.get("/i18n/el.json")).json()["widget.send"] == "Αποστολή"


async def test_unknown_or_traversing_asset_paths_are_404(client: httpx.AsyncClient) -> None:
    for path in [
        "/console/nope.js",
        "/console/..%2F..%2Fapp.py",
        "/console/app.py",
        "/i18n/xx.json",
        "/i18n/..%2Fviews.json",
    ]:
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "error" in response.json(), path


async def test_widget_config_is_public_and_has_no_secrets(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    settings = {
        "language": "hu",
        "consent_required": True,
        "consent_text": "OK?",
        "translations": {"el": {"greeting": "Γεια"}},
    }
    patched = await client.patch(f"/api/v1/inboxes/{inbox['id']}", json={"settings": settings}, headers=tenant.headers)
    assert patched.status_code == 200, patched.text
    config = (await client.get("/api/v1/widget/config", params={"widget_token": inbox["widget_token"]})).json()
    expected = {
        "inbox_name": "Website",
        "language": "hu",
        "greeting": None,
        "consent_required": True,
        "consent_text": "OK?",
        "translations": {"el": {"greeting": "Γεια"}},
    }
    assert {key: config.get(key) for key in expected} == expected
    assert "widget_token" not in config and "secret" not in json.dumps(config)
    missing = await client.get("/api/v1/widget/config", params={"widget_token": "nope"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_widget"
    bad = await client.patch(
        f"/api/v1/inboxes/{inbox['id']}", json={"settings": {"language": "<b>"}}, headers=tenant.headers
    )
    assert bad.status_code in (400, 422), bad.text


async def test_contact_with_identities_is_account_scoped(client: httpx.AsyncClient) -> None:
    tenant, other = await signup(client), await signup(client)
    inbox = await create_web_inbox(client, tenant)
    visitor = await visitor_session(client, inbox["widget_token"], name="Ana", email="ana@example.com")
    response = await client.get(f"/api/v1/contacts/{visitor['contact_id']}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    contact = response.json()
    assert contact["name"] == "Ana" and contact["email"] == "ana@example.com"
    assert [i["channel"] for i in contact["identities"]] == ["web"]
    assert (await client.get(f"/api/v1/contacts/{visitor['contact_id']}", headers=other.headers)).status_code == 404
    visitor_token = {"Authorization": f"Bearer {visitor['visitor_token']}"}
    assert (await client.get(f"/api/v1/contacts/{visitor['contact_id']}", headers=visitor_token)).status_code in (
        401,
        403,
    )
    assert (await client.get("/api/v1/contacts/not-a-uuid", headers=tenant.headers)).status_code == 422


async def test_typing_is_relayed_between_visitor_and_assigned_agent(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    agent = await Socket.open(f"{server.ws_url}/api/v1/ws?token={tenant.token}")
    visitor = await visitor_session(client, inbox["widget_token"])
    widget = await Socket.open(f"{server.ws_url}/api/v1/widget/ws?token={visitor['visitor_token']}")
    try:
        await widget.wait_for(lambda f: f.get("type") == "session.ready")
        await agent.wait_for(lambda f: f.get("type") == "session.ready")
        headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
        sent = await client.post("/api/v1/widget/messages", json={"text": "hello"}, headers=headers)
        assert sent.status_code == 202, sent.text
        conversation_id = sent.json()["conversation_id"]
        await agent.wait_for(lambda f: f.get("type") == "conversation.assigned")
        await widget.send({"type": "typing"})
        frame = await agent.wait_for(lambda f: f.get("type") == "typing")
        assert frame["from"] == "visitor" and frame["conversation_id"] == conversation_id
        await agent.send({"type": "typing", "conversation_id": conversation_id})
        frame = await widget.wait_for(lambda f: f.get("type") == "typing")
        assert frame["from"] == "agent"
    finally:
        await widget.close()
        await agent.close()


async def test_agent_typing_never_reaches_another_accounts_visitor(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    tenant, intruder = await signup(client), await signup(client)
    inbox = await create_web_inbox(client, tenant)
    visitor = await visitor_session(client, inbox["widget_token"])
    headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
    sent = await client.post("/api/v1/widget/messages", json={"text": "hi"}, headers=headers)
    conversation_id = sent.json()["conversation_id"]
    widget = await Socket.open(f"{server.ws_url}/api/v1/widget/ws?token={visitor['visitor_token']}")
    attacker = await Socket.open(f"{server.ws_url}/api/v1/ws?token={intruder.token}")
    try:
        await widget.wait_for(lambda f: f.get("type") == "session.ready")
        await attacker.wait_for(lambda f: f.get("type") == "session.ready")
        await attacker.send({"type": "typing", "conversation_id": conversation_id})
        await attacker.send({"type": "typing", "conversation_id": "not-a-uuid"})
        await attacker.send({"type": "ping"})
        await attacker.wait_for(lambda f: f.get("type") == "pong")
        # The account's own agent reaches the visitor; the stream is ordered, so an intruder's frame (pushed
        # earlier) would have arrived first.
        owner = await Socket.open(f"{server.ws_url}/api/v1/ws?token={tenant.token}")
        try:
            await owner.wait_for(lambda f: f.get("type") == "session.ready")
            await owner.send({"type": "typing", "conversation_id": conversation_id})
            await widget.wait_for(lambda f: f.get("type") == "typing")
        finally:
            await owner.close()
        assert len([f for f in widget.frames if f.get("type") == "typing"]) == 1
    finally:
        await widget.close()
        await attacker.close()


# Names that are the same in every language: brands, and words these languages borrow as they are.
SAME_IN_EVERY_LANGUAGE = {
    "channel.messenger",
    "channel.slack",
    "store.slack",
    "contact.email",
    "login.email",
    "widget.email",
    "lang.el",
    "lang.en",
    "lang.hu",
    "lang.sq",
}


def test_no_english_left_in_other_languages() -> None:
    english = json.loads((I18N / "en.json").read_text("utf-8"))
    for code in ("el", "hu", "sq"):
        strings = json.loads((I18N / f"{code}.json").read_text("utf-8"))
        untranslated = sorted(k for k, v in strings.items() if v == english[k] and k not in SAME_IN_EVERY_LANGUAGE)
        assert untranslated == [], (code, untranslated)


def test_console_maps_server_error_codes_to_translations() -> None:
    """Every error code the gateway raises has a translated message in the console."""
    english = json.loads((I18N / "en.json").read_text("utf-8"))
    gateway = Path(__file__).parents[2] / "services/gateway/src/switchboard_gateway"
    raised = set()
    for path in gateway.rglob("*.py"):
        raised |= set(re.findall(r'AppError\(\s*\d+,\s*"([a-z_]+)"', path.read_text("utf-8")))
    # Codes a console screen can meet (the rest belong to API clients: tokens, scopes, mirrors, webhooks).
    for_console = raised - {
        "insufficient_scope",
        "invalid_refresh_token",
        "refresh_token_reused",
        "ip_not_allowed",
        "not_an_api_inbox",
        "not_mirrorable",
        "invalid_mirror_inbox",
        "totp_already_enabled",
        "totp_not_enrolled",
        "totp_not_enabled",
        "totp_enrollment_required",
        "unknown_widget",
        "consent_required",  # the widget's own consent step; the console never starts a chat
    }
    assert for_console, "no codes found: the pattern no longer matches the code"
    assert sorted(c for c in for_console if f"errcode.{c}" not in english) == []
