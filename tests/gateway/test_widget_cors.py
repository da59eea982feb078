"""Per-inbox CORS for the widget API: real preflights and requests from an allowed origin, another inbox's
origin and an unknown one; the agent API answers no CORS at all; a real browser on another origin."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web
from switchboard_devstack import free_port
from switchboard_devstack.servers import StackUrls
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.helpers.api import create_web_inbox, signup, visitor_session
from tests.helpers.browser import new_page, no_js_errors, start_chat, visitor_says
from tests.helpers.live import LiveServer, live_server

SHOP_A = "https://shop-a.example"
SHOP_B = "https://shop-b.example"
EVIL = "https://evil.example"
ACAO = "access-control-allow-origin"


async def _web_inbox(client: httpx.AsyncClient, headers: dict[str, str], origins: list[str]) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/inboxes",
        json={"name": "Shop", "channel": "web", "settings": {"allowed_origins": origins}},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _preflight_headers(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type",
    }


async def test_preflight_and_requests_answer_only_the_inbox_origins(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    inbox_a = await _web_inbox(client, tenant.headers, [SHOP_A])
    other = await signup(client)
    inbox_b = await _web_inbox(client, other.headers, [SHOP_B])
    token_a = inbox_a["widget_token"]

    # Preflight: the allowed origin gets the CORS answer; another inbox's origin and an unknown one do not.
    for path in ("/api/v1/widget/sessions", "/api/v1/widget/messages"):
        ok = await client.options(f"{path}?widget_token={token_a}", headers=_preflight_headers(SHOP_A))
        assert ok.status_code == 204, ok.text
        assert ok.headers[ACAO] == SHOP_A and ok.headers["vary"] == "Origin"
        assert "POST" in ok.headers["access-control-allow-methods"]
        assert "Authorization" in ok.headers["access-control-allow-headers"]
        for origin in (SHOP_B, EVIL, "null"):
            refused = await client.options(f"{path}?widget_token={token_a}", headers=_preflight_headers(origin))
            assert refused.status_code == 403 and ACAO not in refused.headers
            assert refused.json()["error"]["code"] == "cors_origin_not_allowed"
    # Without a widget token a preflight names no inbox; a method the widget never uses is refused too.
    anonymous = await client.options("/api/v1/widget/sessions", headers=_preflight_headers(SHOP_A))
    assert anonymous.status_code == 403 and ACAO not in anonymous.headers
    delete = await client.options(
        f"/api/v1/widget/messages?widget_token={token_a}", headers=_preflight_headers(SHOP_A, "DELETE")
    )
    assert delete.status_code == 403 and ACAO not in delete.headers

    # Requests: the inbox the request addresses decides (by widget token, or by the visitor token's inbox).
    config = await client.get(f"/api/v1/widget/config?widget_token={token_a}", headers={"Origin": SHOP_A})
    assert config.status_code == 200 and config.headers[ACAO] == SHOP_A
    config = await client.get(f"/api/v1/widget/config?widget_token={token_a}", headers={"Origin": SHOP_B})
    assert config.status_code == 200 and ACAO not in config.headers and config.headers["vary"] == "Origin"

    created = await client.post("/api/v1/widget/sessions", json={"widget_token": token_a}, headers={"Origin": SHOP_A})
    assert created.status_code == 201 and created.headers[ACAO] == SHOP_A
    # The query names inbox B (which allows SHOP_B), but the body addresses inbox A: A's origins count.
    smuggled = await client.post(
        f"/api/v1/widget/sessions?widget_token={inbox_b['widget_token']}",
        json={"widget_token": token_a},
        headers={"Origin": SHOP_B},
    )
    assert smuggled.status_code == 201 and ACAO not in smuggled.headers

    visitor = {"Authorization": f"Bearer {created.json()['visitor_token']}"}
    sent = await client.post(
        f"/api/v1/widget/messages?widget_token={inbox_b['widget_token']}",
        json={"text": "Where is my order?"},
        headers={**visitor, "Origin": SHOP_A},
    )
    assert sent.status_code == 202 and sent.headers[ACAO] == SHOP_A
    for origin in (SHOP_B, EVIL):
        history = await client.get("/api/v1/widget/messages", headers={**visitor, "Origin": origin})
        assert history.status_code == 200 and ACAO not in history.headers
    # An error answered before a handler resolved the inbox falls back to the query's widget token.
    bad = await client.post(
        f"/api/v1/widget/messages?widget_token={token_a}", json={"text": ""}, headers={**visitor, "Origin": SHOP_A}
    )
    assert bad.status_code == 422 and bad.headers[ACAO] == SHOP_A


async def test_agent_api_is_never_cors_open(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    inbox = await _web_inbox(client, tenant.headers, [SHOP_A])
    for path in ("/api/v1/me", "/api/v1/inboxes", f"/api/v1/inboxes/{inbox['id']}", "/api/v1/auth/login"):
        preflight = await client.options(path, headers=_preflight_headers(SHOP_A, "GET"))
        assert ACAO not in preflight.headers and preflight.status_code >= 400, path
        assert preflight.json()["error"]["code"]
        answered = await client.get(path, headers={**tenant.headers, "Origin": SHOP_A})
        assert ACAO not in answered.headers, path


async def test_origins_are_validated_and_changes_apply_at_once(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    token = inbox["widget_token"]
    # No list of its own: the deployment's fallback (the test server keeps the default "*").
    open_preflight = await client.options(
        f"/api/v1/widget/sessions?widget_token={token}", headers=_preflight_headers(EVIL)
    )
    assert open_preflight.status_code == 204 and open_preflight.headers[ACAO] == EVIL

    for bad in ("shop.example", "https://*.example.com", "https://shop.example/path", "ftp://shop.example", "null"):
        refused = await client.patch(
            f"/api/v1/inboxes/{inbox['id']}", json={"settings": {"allowed_origins": [bad]}}, headers=tenant.headers
        )
        assert refused.status_code == 422, bad
        assert refused.json()["error"]["code"] == "validation_error"
        assert bad not in refused.text

    updated = await client.patch(
        f"/api/v1/inboxes/{inbox['id']}",
        json={"settings": {"allowed_origins": ["HTTPS://Shop-A.example:443/", "http://localhost:8080"]}},
        headers=tenant.headers,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["settings"]["allowed_origins"] == [SHOP_A, "http://localhost:8080"]
    for origin, expected in ((SHOP_A, 204), ("http://localhost:8080", 204), (EVIL, 403)):
        answer = await client.options(
            f"/api/v1/widget/sessions?widget_token={token}", headers=_preflight_headers(origin)
        )
        assert answer.status_code == expected, origin


async def test_visitor_socket_refuses_other_origins(server: LiveServer, client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    inbox = await _web_inbox(client, tenant.headers, [SHOP_A])
    visitor = await visitor_session(client, inbox["widget_token"])
    url = f"{server.ws_url}/api/v1/widget/ws?token={visitor['visitor_token']}"
    with pytest.raises(InvalidStatus):
        async with connect(url, origin=SHOP_B, open_timeout=10) as socket:  # type: ignore[arg-type]
            await socket.recv()
    async with connect(url, origin=SHOP_A, open_timeout=10) as socket:  # type: ignore[arg-type]
        assert '"session.ready"' in str(await socket.recv())
    # The gateway's own pages (the demo) are same-origin.
    async with connect(url, origin=server.url, open_timeout=10) as socket:  # type: ignore[arg-type]
        assert '"session.ready"' in str(await socket.recv())


async def test_empty_fallback_closes_inboxes_without_a_list(stack_urls: StackUrls) -> None:
    async with (
        live_server(stack_urls, WIDGET_ALLOWED_ORIGINS="") as live,
        httpx.AsyncClient(base_url=live.url, timeout=30) as http,
    ):
        tenant = await signup(http)
        unlisted = await create_web_inbox(http, tenant)
        listed = await _web_inbox(http, tenant.headers, [SHOP_A])
        closed = await http.options(
            f"/api/v1/widget/sessions?widget_token={unlisted['widget_token']}", headers=_preflight_headers(SHOP_A)
        )
        assert closed.status_code == 403 and ACAO not in closed.headers
        opened = await http.options(
            f"/api/v1/widget/sessions?widget_token={listed['widget_token']}", headers=_preflight_headers(SHOP_A)
        )
        assert opened.status_code == 204 and opened.headers[ACAO] == SHOP_A


SHOP_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head><body>
<h1>A customer's site</h1><script src="{gateway}/widget.js" data-widget-token="{token}" async></script></body></html>"""


@contextlib.asynccontextmanager
async def shop_site() -> AsyncIterator[tuple[str, dict[str, str]]]:
    """A customer's site on its own port (another origin), serving /shop/<widget token> with the embed tag.
    A real local server, not a routed page: the browser only lets loopback pages call a loopback API."""
    pages: dict[str, str] = {}

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=pages.get(request.match_info["token"], ""), content_type="text/html")

    app = web.Application()
    app.router.add_get("/shop/{token}", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", pages
    finally:
        await runner.cleanup()


async def test_widget_works_in_a_browser_only_on_an_allowed_site(
    server: LiveServer,
    client: httpx.AsyncClient,
    browser: Any,
) -> None:
    async with shop_site() as (shop, pages):
        tenant = await signup(client)
        allowed = await _web_inbox(client, tenant.headers, [shop])
        elsewhere = await _web_inbox(client, tenant.headers, [SHOP_B])
        for inbox in (allowed, elsewhere):
            pages[inbox["widget_token"]] = SHOP_PAGE.format(gateway=server.url, token=inbox["widget_token"])

        page = await new_page(browser)
        await page.goto(f"{shop}/shop/{allowed['widget_token']}")
        await page.locator("#switchboard-widget .bubble").click()
        await start_chat(page, "Dana")
        await visitor_says(page, "Hello from the shop")
        await page.locator("#switchboard-widget li.mine .meta", has_text="sending").wait_for(state="detached")
        no_js_errors(page)
        await page.context.close()

        # The same widget on a site its inbox does not list: the browser refuses the API's answers.
        page = await new_page(browser)
        await page.goto(f"{shop}/shop/{elsewhere['widget_token']}")
        await page.locator("#switchboard-widget .bubble").click()
        await page.locator("#switchboard-widget input[name=name]").fill("Eve")
        await page.locator("#switchboard-widget button.start").click()
        # The browser hides why (a CORS failure is a bare network error): the visitor sees the generic notice.
        await page.locator("#switchboard-widget .error").filter(has_text="could not be sent").wait_for()
        assert await page.locator("#switchboard-widget textarea[name=message]").is_hidden()
        await page.context.close()
