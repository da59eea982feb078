"""Slack requests signed exactly as Slack signs them, event envelopes as Slack sends them, and a Slack inbox
connected with a bot token the (fake) Slack issued for the workspace."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
from slack_sdk.signature import SignatureVerifier

from tests.fakes.slack import FakeSlack
from tests.helpers.api import Tenant

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def signed(body: bytes, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": "application/json"}


def envelope(team: str, event: dict[str, Any], event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": team}],
        }
    ).encode()


def bot_token(team: str) -> str:
    return f"xoxb-test-{team.lower()}"


def new_team() -> str:
    return f"T{uuid.uuid4().hex[:8].upper()}"


async def slack_inbox(
    client: httpx.AsyncClient, tenant: Tenant, team: str, fake: FakeSlack, channel: str = "CSUP", name: str = "Slack"
) -> dict[str, Any]:
    """A Slack inbox for ``team``, with a bot token the (fake) Slack issued for that workspace."""
    response = await client.post(
        "/api/v1/inboxes",
        headers=tenant.headers,
        json={
            "name": name,
            "channel": "slack",
            "settings": {
                "team_id": team,
                "channel_id": channel,
                "bot_token": fake.install(bot_token(team), team),
                "bot_user_id": "UBOT",
            },
        },
    )
    assert response.status_code == 201, response.text
    assert "bot_token" not in response.json()["settings"]
    return dict(response.json())
