"""Signatures, codes and link signatures that clients send are compared as bytes: any character they hold is
a refusal (401/403), never a server error (``hmac.compare_digest`` raises on non-ASCII str)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from switchboard_devstack.servers import StackUrls

from tests.helpers.api import signup
from tests.helpers.live import LiveServer, live_server

NON_ASCII = "v0=é".encode("latin-1")  # what a client can put in a header: any byte, decoded as Latin-1


@pytest.fixture(scope="module")
async def system(stack_urls: StackUrls) -> AsyncIterator[LiveServer]:
    async with live_server(
        stack_urls, SLACK_SIGNING_SECRET="slack-signing-secret", MESSENGER_APP_SECRET="messenger-app-secret"
    ) as live:
        yield live


@pytest.fixture
async def client(system: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as http:
        yield http


@pytest.mark.parametrize("signature", [NON_ASCII, "sha256=\u00ff\u00fe".encode("latin-1"), b"v0=\xe2\x82\xac"])
async def test_non_ascii_signature_headers_are_401(client: httpx.AsyncClient, signature: bytes) -> None:
    tenant = await signup(client)
    api = await client.post("/api/v1/inboxes", json={"name": "API", "channel": "api"}, headers=tenant.headers)
    assert api.status_code == 201, api.text
    body = b'{"type": "event_callback"}'
    now = str(int(time.time())).encode()
    attempts = {
        "/webhooks/slack/events": {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": signature},
        "/webhooks/messenger": {"X-Hub-Signature-256": signature},
        f"/webhooks/api/{api.json()['id']}": {"X-Switchboard-Timestamp": now, "X-Switchboard-Signature": signature},
    }
    for path, headers in attempts.items():
        response = await client.post(path, content=body, headers={"Content-Type": b"application/json", **headers})
        assert response.status_code == 401, (path, response.status_code, response.text)
        assert response.json()["error"]["code"] == "invalid_signature", path


async def test_non_ascii_export_link_signature_is_403(client: httpx.AsyncClient) -> None:
    link = f"/api/v1/privacy/exports/{uuid.uuid4()}"
    response = await client.get(link, params={"expires": int(time.time()) + 60, "signature": "é" * 64})
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "link_invalid"


async def test_non_ascii_digits_as_a_totp_code_are_refused(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    assert (await client.post("/api/v1/auth/2fa/enroll", headers=tenant.headers)).status_code == 200
    response = await client.post("/api/v1/auth/2fa/confirm", json={"code": "²" * 6}, headers=tenant.headers)
    # The schema states a code's pattern (ASCII digits), so validation refuses it before any TOTP check.
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["details"][0]["loc"] == ["body", "code"]
