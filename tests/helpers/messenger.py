"""Messenger webhook bodies as Meta sends them, signed, and a Messenger inbox for a tenant."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx

from tests.fakes.graph import FakeGraph
from tests.helpers.api import Tenant

APP_SECRET = "0123456789abcdef0123456789abcdef"

VERIFY_TOKEN = "verify-me-please"


def signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": signature, "Content-Type": "application/json"}


def new_page() -> str:
    return str(uuid.uuid4().int % 10**15)


def webhook(entries: list[tuple[str, list[dict[str, Any]]]]) -> bytes:
    # Meta escapes non-ASCII (json.dumps does too): the signature covers these exact bytes.
    return json.dumps(
        {
            "object": "page",
            "entry": [{"id": page, "time": int(time.time() * 1000), "messaging": ev} for page, ev in entries],
        }
    ).encode()


def text_event(page: str, psid: str, mid: str, text: str, at_ms: int | None = None) -> dict[str, Any]:
    return {
        "sender": {"id": psid},
        "recipient": {"id": page},
        "timestamp": at_ms if at_ms is not None else int(time.time() * 1000),
        "message": {"mid": mid, "text": text},
    }


async def messenger_inbox(
    client: httpx.AsyncClient, tenant: Tenant, page: str, graph: FakeGraph, **settings: Any
) -> dict[str, Any]:
    """A Messenger inbox for ``page``, with a page access token the (fake) Graph API issued for that page."""
    response = await client.post(
        "/api/v1/inboxes",
        headers=tenant.headers,
        json={
            "name": "Facebook page",
            "channel": "messenger",
            "settings": {"page_id": page, "page_access_token": graph.page_token(page), **settings},
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def post(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    return await client.post("/webhooks/messenger", content=body, headers=signed(body))
