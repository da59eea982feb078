"""Requests to the API channel's inbound webhook, signed as a customer's back end signs them."""

from __future__ import annotations

import json

import httpx
from switchboard_common.infra import signing


async def post_signed(
    client: httpx.AsyncClient, inbox_id: str, secret: str, payload: object, timestamp: float | None = None
) -> httpx.Response:
    body = json.dumps(payload).encode()
    return await client.post(
        f"/webhooks/api/{inbox_id}", content=body, headers=signing.signed_headers(secret, body, timestamp)
    )
