"""Security headers: a strict Content-Security-Policy and browser-feature limits on the HTML pages, the
common headers on every response, HSTS in production only."""

from __future__ import annotations

import base64
import os

import httpx
from switchboard_devstack.servers import StackUrls

from tests.helpers.live import live_server


async def test_pages_have_a_strict_policy(client: httpx.AsyncClient) -> None:
    for path in ("/", "/demo"):
        page = await client.get(path)
        assert page.status_code == 200
        policy = {
            name: values
            for name, *values in (d.split() for d in page.headers["content-security-policy"].split(";") if d.strip())
        }
        assert policy["script-src"] == ["'self'"] and policy["default-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"] and policy["form-action"] == ["'self'"]
        assert page.headers["cross-origin-opener-policy"] == "same-origin"
        assert "camera=()" in page.headers["permissions-policy"]
        assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in page.headers  # plain HTTP outside production
    # Every response, JSON included, carries the common ones.
    me = await client.get("/api/v1/me")
    assert me.status_code == 401 and me.headers["x-content-type-options"] == "nosniff"
    assert me.headers["cache-control"] == "no-store"


async def test_production_pages_ask_for_https_only(stack_urls: StackUrls) -> None:
    env = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": base64.b64encode(os.urandom(36)).decode(),
        "ENCRYPTION_KEYS": "k1:" + base64.b64encode(os.urandom(32)).decode(),
    }
    async with live_server(stack_urls, **env) as live, httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        page = await http.get("/")
        assert page.headers["strict-transport-security"].startswith("max-age=31536000")
