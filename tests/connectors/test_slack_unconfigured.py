"""A deployment without a Slack app (no SLACK_SIGNING_SECRET): both Slack request URLs answer alike, from one
verification function, as their schema declares: a signed request is a 404 ``slack_not_configured`` (nothing
failed, so never a 5xx), an unsigned or badly signed one the 401 every such request gets."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from tests.helpers.live import LiveServer

# Signed with some other app's secret: this deployment has none to check it against.
OTHER_APPS_SECRET = "3c0ffee5ecre7of5omeo7herapp00000"
EVENTS = ("/webhooks/slack/events", json.dumps({"type": "url_verification", "challenge": "c"}), "application/json")
INTERACTIVITY = (
    "/webhooks/slack/interactivity",
    urlencode({"payload": json.dumps({"type": "block_actions", "team": {"id": "T1"}, "actions": []})}),
    "application/x-www-form-urlencoded",
)


def _signed(body: str, content_type: str) -> dict[str, str]:
    ts = str(int(time.time()))
    signature = SignatureVerifier(OTHER_APPS_SECRET).generate_signature(timestamp=ts, body=body.encode())
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": content_type}


@pytest.mark.parametrize(("path", "body", "content_type"), [EVENTS, INTERACTIVITY], ids=["events", "interactivity"])
async def test_without_a_slack_app_signed_is_404_and_unsigned_is_401(
    client: httpx.AsyncClient, path: str, body: str, content_type: str
) -> None:
    signed = await client.post(path, content=body, headers=_signed(body, content_type))
    assert signed.status_code == 404, signed.text
    assert signed.json()["error"]["code"] == "slack_not_configured"

    unsigned = await client.post(path, content=body, headers={"Content-Type": content_type})
    assert unsigned.status_code == 401, unsigned.text
    assert unsigned.json()["error"]["code"] == "stale_timestamp"

    # One header only is unsigned too: the empty secret never verifies anything.
    half = {k: v for k, v in _signed(body, content_type).items() if k != "X-Slack-Request-Timestamp"}
    assert (await client.post(path, content=body, headers=half)).status_code == 401
    half = {k: v for k, v in _signed(body, content_type).items() if k != "X-Slack-Signature"}
    missing_signature = await client.post(path, content=body, headers=half)
    assert missing_signature.status_code == 401
    assert missing_signature.json()["error"]["code"] == "invalid_signature"


async def test_both_slack_urls_declare_what_they_answer(server: LiveServer) -> None:
    document = server.apps["connectors"].openapi()  # type: ignore[attr-defined]
    for path, _body, content_type in (EVENTS, INTERACTIVITY):
        operation = document["paths"][path]["post"]
        assert {"200", "400", "401", "404", "503"} <= set(operation["responses"]), path
        assert "slack_not_configured" in operation["responses"]["404"]["description"]
        assert list(operation["requestBody"]["content"]) == [content_type]
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert headers == {"X-Slack-Request-Timestamp", "X-Slack-Signature"}
