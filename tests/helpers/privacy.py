"""Waiting on privacy requests."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.helpers.api import Tenant


async def wait_status(client: httpx.AsyncClient, tenant: Tenant, request_id: str, status: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(200):
        body = (await client.get(f"/api/v1/privacy/requests/{request_id}", headers=tenant.headers)).json()
        if body["status"] == status:
            return body
        await asyncio.sleep(0.2)
    raise AssertionError(f"request did not reach {status}: {body}")
