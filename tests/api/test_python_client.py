"""The generated Python client (clients/python, `make client`) is current, and carries the first conversation
on its own: signup, login, inbox, a visitor's widget message, the agent's reply, the visitor reading it."""

from __future__ import annotations

import contextlib
import filecmp
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.helpers.api import eventually
from tests.helpers.live import LiveServer

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "clients" / "python"))

from switchboard_client import AuthenticatedClient, Client  # noqa: E402
from switchboard_client.api.accounts import login, me, signup  # noqa: E402
from switchboard_client.api.conversations import list_conversations, list_messages, reply  # noqa: E402
from switchboard_client.api.inboxes import create_inbox  # noqa: E402
from switchboard_client.api.widget import (  # noqa: E402
    create_visitor_session,
    list_visitor_messages,
    post_visitor_message,
)
from switchboard_client.models import (  # noqa: E402
    ConversationOut,
    Error,
    InboxOut,
    LoginRequest,
    MeOut,
    MessageOut,
    ReplyCreate,
    SignupRequest,
    SignupResponse,
    TokenResponse,
    VisitorMessageAccepted,
    VisitorMessageCreate,
    VisitorSessionCreate,
    VisitorSessionOut,
    WebInboxCreate,
)

from clients import generate_python  # noqa: E402


def _differences(left: Path, right: Path) -> list[str]:
    found: list[str] = []
    compared = filecmp.dircmp(left, right, ignore=list(generate_python.CACHES))
    found += [f"only in the committed client: {name}" for name in compared.left_only]
    found += [f"missing from the committed client: {name}" for name in compared.right_only]
    found += [f"differs: {name}" for name in filecmp.cmpfiles(left, right, compared.common_files, shallow=False)[1]]
    for name in compared.common_dirs:
        found += _differences(left / name, right / name)
    return found


def test_the_committed_client_is_generated_from_the_current_schema() -> None:
    assert json.loads(generate_python.DOCUMENT.read_text()) == generate_python.openapi_document(), (
        "clients/openapi.json is stale: run `make client`"
    )
    with tempfile.TemporaryDirectory() as work:
        fresh = Path(work) / "python"
        generate_python.generate(generate_python.DOCUMENT, fresh)
        differences = _differences(generate_python.TARGET, fresh)
    assert not differences, "clients/python is stale: run `make client`\n" + "\n".join(differences)


async def test_the_first_conversation_through_the_generated_client(server: LiveServer) -> None:
    async with contextlib.AsyncExitStack() as clients:
        await _first_conversation(server.url, clients)


async def _first_conversation(url: str, clients: contextlib.AsyncExitStack) -> None:
    anonymous = await clients.enter_async_context(Client(base_url=url, raise_on_unexpected_status=True))
    email = "first.owner@example.com"
    account = await signup.asyncio(
        client=anonymous, body=SignupRequest(account_name="Corner Shop", email=email, password="a long passphrase")
    )
    assert isinstance(account, SignupResponse), account
    tokens = await login.asyncio(client=anonymous, body=LoginRequest(email=email, password="a long passphrase"))
    assert isinstance(tokens, TokenResponse), tokens
    owner = await clients.enter_async_context(
        AuthenticatedClient(base_url=url, token=tokens.access_token, raise_on_unexpected_status=True)
    )
    myself = await me.asyncio(client=owner)
    assert isinstance(myself, MeOut) and myself.id == account.user_id

    inbox = await create_inbox.asyncio(client=owner, body=WebInboxCreate(name="Website", channel="web"))
    assert isinstance(inbox, InboxOut) and isinstance(inbox.widget_token, str), inbox
    session = await create_visitor_session.asyncio(
        client=anonymous, body=VisitorSessionCreate(widget_token=inbox.widget_token)
    )
    assert isinstance(session, VisitorSessionOut), session
    visitor = await clients.enter_async_context(
        AuthenticatedClient(base_url=url, token=session.visitor_token, raise_on_unexpected_status=True)
    )
    sent = await post_visitor_message.asyncio(client=visitor, body=VisitorMessageCreate(text="Is my order shipped?"))
    assert isinstance(sent, VisitorMessageAccepted), sent

    # 202 means the message is on the bus; the agent sees it once it is stored, as an agent at a screen would.
    async def listed() -> Any:
        found = await list_conversations.asyncio(client=owner)
        return found if isinstance(found, list) and found else None

    async def visitor_message_stored() -> Any:
        found = await list_messages.asyncio(sent.conversation_id, client=owner)
        return isinstance(found, list) and [m.text for m in found] == ["Is my order shipped?"]

    conversations = await eventually(listed)
    assert [c.id for c in conversations] == [sent.conversation_id]
    assert isinstance(conversations[0], ConversationOut)
    await eventually(visitor_message_stored)
    answer = await reply.asyncio(sent.conversation_id, client=owner, body=ReplyCreate(text="Yes, it left today."))
    assert isinstance(answer, MessageOut) and answer.direction == "outbound", answer
    thread = await list_messages.asyncio(sent.conversation_id, client=owner)
    assert isinstance(thread, list) and [m.text for m in thread] == ["Is my order shipped?", "Yes, it left today."]
    seen = await list_visitor_messages.asyncio(client=visitor)
    assert isinstance(seen, list) and [m.text for m in seen][-1] == "Yes, it left today."

    # Errors come back as the schema's Error model, with its machine-readable code.
    refused = await create_inbox.asyncio(client=owner, body=WebInboxCreate(name=" ", channel="web"))
    assert isinstance(refused, Error) and refused.error.code == "validation_error"
