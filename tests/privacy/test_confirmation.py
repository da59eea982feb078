"""Subject self-confirmation through the channel, end to end over HTTP: the prompt reaches the visitor's widget
through the ordinary outbound path; a reply with the code (or the link) verifies the request; codes are single
use, expire with their challenge and are withdrawn after too many wrong attempts; the audit trail names no one."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from switchboard_devstack.servers import StackUrls

from tests.helpers.api import Socket, Tenant, create_web_inbox, signup, visitor_session
from tests.helpers.live import LiveServer, live_server
from tests.helpers.privacy import wait_status

CODE = re.compile(r"code (\d{3}) (\d{3})")
LINK = re.compile(r"(http://\S+/api/v1/privacy/confirm/[A-Za-z0-9_-]+)")


@pytest.fixture(scope="module")
async def system(stack_urls: StackUrls, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    async with live_server(
        stack_urls,
        DATA_DIR=str(tmp_path_factory.mktemp("privacy-confirmation")),
        SUBJECT_KEY_CACHE_SECONDS="0",
        PRIVACY_WORKER_INTERVAL_SECONDS="0.2",
        PRIVACY_CONFIRMATION_MAX_ATTEMPTS="2",
        PRIVACY_CONFIRMATION_MAX_PROMPTS="2",
        # The link must name the server; its port is only known once the app is built, so tests read the
        # path from the prompt and call the server they know.
        PRIVACY_PUBLIC_URL="http://support.example.test",
    ) as live:
        yield live


@pytest.fixture
async def client(system: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as http:
        yield http


class Visitor:
    def __init__(self, data: dict[str, Any], socket: Socket) -> None:
        self.data = data
        self.socket = socket
        self.headers = {"Authorization": f"Bearer {data['visitor_token']}"}

    async def say(self, client: httpx.AsyncClient, text: str) -> None:
        response = await client.post("/api/v1/widget/messages", json={"text": text}, headers=self.headers)
        assert response.status_code == 202, response.text

    async def prompt(self, nth: int = 1) -> str:
        """The text of the nth confirmation prompt the widget received."""

        def prompts() -> list[dict[str, Any]]:
            return [
                f
                for f in self.socket.frames
                if f.get("type") == "message.created" and f["message"]["sender_type"] == "system"
            ]

        await self.socket.wait_for(lambda _f: len(prompts()) >= nth)
        return str(prompts()[nth - 1]["message"]["text"])


async def chatting_visitor(client: httpx.AsyncClient, system: LiveServer, tenant: Tenant, email: str) -> Visitor:
    inbox = await create_web_inbox(client, tenant)
    data = await visitor_session(client, inbox["widget_token"], name="Confirming Person", email=email)
    socket = await Socket.open(f"{system.ws_url}/api/v1/widget/ws?token={data['visitor_token']}")
    visitor = Visitor(data, socket)
    await visitor.say(client, "I want my data erased")
    for _ in range(150):
        listed = await client.get("/api/v1/conversations", headers=tenant.headers)
        if any(c["contact_id"] == data["contact_id"] for c in listed.json()):
            return visitor
        await asyncio.sleep(0.2)
    raise AssertionError("the conversation was not stored")


async def messages_with(client: httpx.AsyncClient, tenant: Tenant, conversation_id: str, text: str) -> None:
    """Waits until the conversation holds an inbound message with this text (the consumers have seen it)."""
    for _ in range(150):
        response = await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=tenant.headers)
        if any(m["direction"] == "inbound" and m["text"] == text for m in response.json()):
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the message was not stored")


async def new_request(client: httpx.AsyncClient, tenant: Tenant, kind: str, email: str) -> str:
    created = await client.post(
        "/api/v1/privacy/requests", json={"type": kind, "subject": {"email": email}}, headers=tenant.headers
    )
    assert created.status_code == 202, created.text
    return str(created.json()["id"])


async def ask_confirmation(client: httpx.AsyncClient, tenant: Tenant, request_id: str) -> httpx.Response:
    return await client.post(f"/api/v1/privacy/requests/{request_id}/confirmation", json={}, headers=tenant.headers)


def code_of(prompt: str) -> str:
    match = CODE.search(prompt)
    assert match, prompt
    return match.group(1) + match.group(2)


async def audit_actions(client: httpx.AsyncClient, tenant: Tenant, request_id: str) -> list[dict[str, Any]]:
    entries = (await client.get("/api/v1/privacy/audit", headers=tenant.headers)).json()
    return [e for e in entries if e["request_id"] == request_id]


async def test_the_subject_confirms_by_replying_with_the_code(client: httpx.AsyncClient, system: LiveServer) -> None:
    tenant = await signup(client)
    email = f"confirm-{uuid.uuid4().hex[:8]}@example.org"
    visitor = await chatting_visitor(client, system, tenant, email)
    request_id = await new_request(client, tenant, "access", email)

    sent = await ask_confirmation(client, tenant, request_id)
    assert sent.status_code == 202, sent.text
    assert sent.json()["channel"] == "web" and sent.json()["state"] == "pending"
    prompt = await visitor.prompt()
    code = code_of(prompt)
    assert "send a copy of the personal data" in prompt and "/api/v1/privacy/confirm/" in prompt

    # A wrong code is an attempt that verifies nothing; chatter without a code is no attempt at all.
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    await visitor.say(client, "what is this about?")
    await visitor.say(client, f"my code is {wrong[:3]} {wrong[3:]}")

    async def failed_attempts() -> int:
        return sum(1 for e in await audit_actions(client, tenant, request_id) if e["action"].endswith("_failed"))

    for _ in range(150):
        if await failed_attempts():
            break
        await asyncio.sleep(0.2)
    assert await failed_attempts() == 1
    body = (await client.get(f"/api/v1/privacy/requests/{request_id}", headers=tenant.headers)).json()
    assert body["status"] == "received"

    await visitor.say(client, f"{code[:3]}-{code[3:]}")
    done = await wait_status(client, tenant, request_id, "completed")
    assert done["contacts_found"] == 1 and done["report"]["confirmation"]["state"] == "confirmed"
    trail = await audit_actions(client, tenant, request_id)
    verified = next(e for e in trail if e["action"] == "access.verified")
    assert verified["actor"] == "subject" and verified["details"] == {"contacts": 1, "via": "channel"}
    assert {"access.received", "access.confirmation_sent", "access.confirmation_failed"} <= {e["action"] for e in trail}
    text = json.dumps(trail)
    assert email not in text and code not in text and wrong not in text

    # Single use: the request is no longer pending, so no new prompt and the old code means nothing.
    again = await ask_confirmation(client, tenant, request_id)
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_pending"
    await visitor.socket.close()


async def test_the_link_confirms_once_and_only_on_post(client: httpx.AsyncClient, system: LiveServer) -> None:
    tenant = await signup(client)
    email = f"link-{uuid.uuid4().hex[:8]}@example.org"
    visitor = await chatting_visitor(client, system, tenant, email)
    created = await client.post(
        "/api/v1/privacy/requests",
        json={"type": "rectification", "subject": {"email": email}, "changes": {"name": "Corrected Person"}},
        headers=tenant.headers,
    )
    request_id = created.json()["id"]
    assert (await ask_confirmation(client, tenant, request_id)).status_code == 202
    match = LINK.search(await visitor.prompt())
    assert match, "the prompt carries a link under PRIVACY_PUBLIC_URL"
    path = "/" + match.group(1).split("/", 3)[3]

    page = await client.get(path)  # what a link preview fetches: a page with a button, nothing confirmed
    assert page.status_code == 200 and '<form method="post">' in page.text
    body = (await client.get(f"/api/v1/privacy/requests/{request_id}", headers=tenant.headers)).json()
    assert body["status"] == "received"

    confirmed = await client.post(path, headers={"Accept": "text/html"})
    assert confirmed.status_code == 200 and "confirmed" in confirmed.text
    done = await wait_status(client, tenant, request_id, "completed")
    assert done["progress"]["postgres"]["counts"] == {"contacts": 1}
    replay = await client.post(path)
    assert replay.status_code == 404 and replay.json()["error"]["code"] == "confirmation_invalid"
    assert (await client.get("/api/v1/privacy/confirm/not-a-real-token")).status_code == 404
    await visitor.socket.close()


async def test_too_many_wrong_codes_withdraw_the_challenge(client: httpx.AsyncClient, system: LiveServer) -> None:
    tenant = await signup(client)
    email = f"locked-{uuid.uuid4().hex[:8]}@example.org"
    visitor = await chatting_visitor(client, system, tenant, email)
    request_id = await new_request(client, tenant, "erasure", email)
    assert (await ask_confirmation(client, tenant, request_id)).status_code == 202
    code = code_of(await visitor.prompt())
    for guess in ("000001", "000002"):
        await visitor.say(client, guess if guess != code else "000003")

    async def state() -> dict[str, Any]:
        body = (await client.get(f"/api/v1/privacy/requests/{request_id}", headers=tenant.headers)).json()
        return dict(body["report"].get("confirmation") or {})

    for _ in range(150):
        if (await state()).get("state") == "locked":
            break
        await asyncio.sleep(0.2)
    locked = await state()
    assert locked["state"] == "locked" and locked["attempts"] == 2
    # The right code after the lock verifies nothing.
    await visitor.say(client, code)
    await messages_with(client, tenant, locked["conversation_id"], code)
    body = (await client.get(f"/api/v1/privacy/requests/{request_id}", headers=tenant.headers)).json()
    assert body["status"] == "received"
    actions = [e["action"] for e in await audit_actions(client, tenant, request_id)]
    assert "erasure.confirmation_locked" in actions and "erasure.verified" not in actions

    # A new prompt (the limit is two) issues a new code; a third is refused.
    assert (await ask_confirmation(client, tenant, request_id)).status_code == 202
    second = code_of(await visitor.prompt(2))
    refused = await ask_confirmation(client, tenant, request_id)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_prompts"
    await visitor.say(client, second)
    done = await wait_status(client, tenant, request_id, "completed")
    assert done["progress"]["postgres"]["counts"]["contacts"] == 1
    await visitor.socket.close()


async def test_refusals(client: httpx.AsyncClient, system: LiveServer) -> None:
    tenant = await signup(client)
    unknown = await new_request(client, tenant, "access", "nobody-we-know@example.org")
    response = await ask_confirmation(client, tenant, unknown)
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_reachable_channel"
    bad = await client.post(
        f"/api/v1/privacy/requests/{unknown}/confirmation", json={"channel": "fax"}, headers=tenant.headers
    )
    assert bad.status_code == 422 and "error" in bad.json()
    other = await signup(client)
    hidden = await ask_confirmation(client, other, unknown)
    assert hidden.status_code == 404
