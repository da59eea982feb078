"""Slack end to end against a fake Slack Web API, with requests signed exactly as Slack signs them."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aiokafka import ConsumerRecord
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from switchboard_connectors.app import slack_api
from switchboard_connectors.channels.slack.mirror import SlackMirror
from switchboard_connectors.ingress import InboxDirectory
from switchboard_devstack.servers import StackUrls

from tests.fakes.slack import FakeSlack
from tests.helpers.api import Socket, create_agent, create_web_inbox, signup, visitor_session
from tests.helpers.live import LiveServer, live_server
from tests.helpers.redis_keys import unregistered_keys
from tests.helpers.slack import SIGNING_SECRET, bot_token, envelope, signed, slack_inbox


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("slack-data")


@pytest.fixture(scope="module")
async def slack_system(stack_urls: StackUrls, fake_slack: FakeSlack, data_dir: Path) -> AsyncIterator[LiveServer]:
    async with live_server(
        stack_urls,
        DATA_DIR=str(data_dir),
        SLACK_FILE_HOSTS="127.0.0.1",
        SLACK_API_URL=fake_slack.url,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_MAX_WAIT_SECONDS="5",
        SLACK_CLIENT_ID="123.456",
        SLACK_CLIENT_SECRET="client-secret",
    ) as live:
        yield live


async def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def new_team() -> str:
    return "T" + uuid.uuid4().hex[:8].upper()


async def test_url_verification_and_rejections(slack_system: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=slack_system.url) as client:
        body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"}).encode()
        ok = await client.post("/webhooks/slack/events", content=body, headers=signed(body))
        assert ok.status_code == 200 and ok.json() == {"challenge": "abc123"}
        forged = await client.post("/webhooks/slack/events", content=body, headers=signed(body, secret="wrong"))
        assert forged.status_code == 401 and forged.json()["error"]["code"] == "invalid_signature"
        stale = await client.post(
            "/webhooks/slack/events", content=body, headers=signed(body, timestamp=int(time.time()) - 301)
        )
        assert stale.status_code == 401 and stale.json()["error"]["code"] == "stale_timestamp"
        tampered = await client.post("/webhooks/slack/events", content=body + b" ", headers=signed(body))
        assert tampered.status_code == 401
        garbage = b"not json"
        assert (
            await client.post("/webhooks/slack/events", content=garbage, headers=signed(garbage))
        ).status_code == 400


async def test_customer_channel_round_trip(slack_system: LiveServer, fake_slack: FakeSlack, data_dir: Path) -> None:
    team = new_team()
    async with httpx.AsyncClient(base_url=slack_system.url, timeout=30) as client:
        tenant = await signup(client)
        await slack_inbox(client, tenant, team, fake_slack)
        _, agent_token = await create_agent(client, tenant)
        agent = await Socket.open(f"{slack_system.ws_url}/api/v1/ws?token={agent_token}")
        await agent.wait_for(lambda f: f["type"] == "session.ready")
        message = {
            "type": "message",
            "channel": "CSUP",
            "channel_type": "channel",
            "user": "UCUST",
            "text": "My invoice is wrong",
            "ts": "1700000000.000100",
        }
        # Forged and stale copies of a real team's event are refused and store nothing.
        forged_body = envelope(team, {**message, "text": "forged", "ts": "1700000000.000050"})
        for headers in (signed(forged_body, secret="wrong"), signed(forged_body, timestamp=int(time.time()) - 600)):
            refused = await client.post("/webhooks/slack/events", content=forged_body, headers=headers)
            assert refused.status_code == 401, refused.text
        body = envelope(team, message, "EvFIRST1")
        first = await client.post("/webhooks/slack/events", content=body, headers=signed(body))
        assert first.status_code == 200, first.text
        retry_headers = {**signed(body), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        retried = await client.post("/webhooks/slack/events", content=body, headers=retry_headers)
        assert retried.status_code == 200 and retried.json().get("duplicate") is True
        # Our own bot's post and another bot's never loop back as customer messages.
        for echo in (
            {**message, "user": "UBOT", "ts": "1700000000.000200", "text": "echo"},
            {**message, "bot_id": "B9", "ts": "1700000000.000300", "text": "bot"},
            {**message, "subtype": "channel_join", "ts": "1700000000.000400"},
        ):
            echo_body = envelope(team, echo)
            assert (
                await client.post("/webhooks/slack/events", content=echo_body, headers=signed(echo_body))
            ).status_code == 200
        assigned = await agent.wait_for(lambda f: f["type"] == "conversation.assigned")
        assert await agent.texts_for(assigned["conversation_id"], 1) == ["My invoice is wrong"]
        before = len(fake_slack.posted())
        reply = await client.post(
            f"/api/v1/conversations/{assigned['conversation_id']}/messages",
            json={"text": "Let me check"},
            headers={"Authorization": f"Bearer {agent_token}"},
        )
        assert reply.status_code == 201
        posts = await fake_slack.wait_posts(before + 1)
        assert posts[-1] == {
            "channel": "CSUP",
            "text": "Let me check",
            "thread_ts": "1700000000.000100",
            "unfurl_links": False,
        }
        assert fake_slack.calls[-1][2] == bot_token(team)
        await agent.wait_for(lambda f: f["type"] == "message.delivery_updated" and f["status"] == "sent")
        # An edit and a deletion reach the agent and the stored history.
        edit = envelope(
            team,
            {
                "type": "message",
                "subtype": "message_changed",
                "channel": "CSUP",
                "channel_type": "channel",
                "message": {**message, "text": "My invoice is right"},
                "previous_message": message,
            },
        )
        await client.post("/webhooks/slack/events", content=edit, headers=signed(edit))
        edited = await agent.wait_for(lambda f: f["type"] == "message.updated")
        assert edited["text"] == "My invoice is right"
        # A file arrives as metadata; the file itself is fetched with the bot token after the ack.
        fake_slack.files["F0FILE1"] = b"%PDF-1.4 invoice"
        shared = envelope(
            team,
            {
                **message,
                "subtype": "file_share",
                "text": "here it is",
                "ts": "1700000000.000900",
                "files": [
                    {
                        "id": "F0FILE1",
                        "name": "invoice.pdf",
                        "mimetype": "application/pdf",
                        "size": 16,
                        "url_private": fake_slack.file_url("F0FILE1"),
                    }
                ],
            },
        )
        assert (await client.post("/webhooks/slack/events", content=shared, headers=signed(shared))).status_code == 200
        with_file = await agent.wait_for(
            lambda f: f["type"] == "message.created" and f["message"]["text"] == "here it is"
        )
        assert with_file["message"]["attachments"][0]["name"] == "invoice.pdf"
        # Kept in the customer's folder of the attachment store (erasure and exports find it by contact).
        account_folder = data_dir / "attachments" / tenant.account_id
        wanted = f"slack-{with_file['message']['id']}-F0FILE1"
        await wait_until(lambda: any(p.name == wanted for p in account_folder.glob("*/*")))
        assert next(account_folder.glob(f"*/{wanted}")).read_bytes() == b"%PDF-1.4 invoice"
        assert ("F0FILE1", bot_token(team)) in fake_slack.downloads
        deleted = envelope(
            team,
            {
                "type": "message",
                "subtype": "message_deleted",
                "channel": "CSUP",
                "channel_type": "channel",
                "deleted_ts": "1700000000.000900",
                "previous_message": {**message, "text": "here it is", "ts": "1700000000.000900"},
            },
        )
        await client.post("/webhooks/slack/events", content=deleted, headers=signed(deleted))
        gone = await agent.wait_for(lambda f: f["type"] == "message.deleted")
        assert gone["message_id"] == with_file["message"]["id"] and gone["text"] is None
        history = (
            await client.get(
                f"/api/v1/conversations/{assigned['conversation_id']}/messages",
                headers={"Authorization": f"Bearer {agent_token}"},
            )
        ).json()
        assert [m["text"] for m in history] == ["My invoice is right", "Let me check", None]
        stored = [m for m in history if m["direction"] == "inbound"]
        assert len(stored) == 2  # forged, stale, the retry and the bot echoes stored nothing
        await agent.close()


async def test_rate_limits_are_honored_and_permanent_errors_reach_the_agent(
    slack_system: LiveServer, fake_slack: FakeSlack
) -> None:
    team = new_team()
    async with httpx.AsyncClient(base_url=slack_system.url, timeout=30) as client:
        tenant = await signup(client)
        await slack_inbox(client, tenant, team, fake_slack)
        _, agent_token = await create_agent(client, tenant)
        agent = await Socket.open(f"{slack_system.ws_url}/api/v1/ws?token={agent_token}")
        body = envelope(
            team, {"type": "message", "channel": "CSUP", "user": "UC2", "text": "hi", "ts": "1700000001.000100"}
        )
        await client.post("/webhooks/slack/events", content=body, headers=signed(body))
        assigned = await agent.wait_for(lambda f: f["type"] == "conversation.assigned")
        headers = {"Authorization": f"Bearer {agent_token}"}
        fake_slack.script["chat.postMessage"] = [("429", 1), ("500", None)]
        before = len(fake_slack.posted())
        first = await client.post(
            f"/api/v1/conversations/{assigned['conversation_id']}/messages",
            json={"text": "after the limit"},
            headers=headers,
        )
        await agent.wait_for(lambda f: f.get("message_id") == first.json()["id"] and f.get("status") == "sent")
        assert [p["text"] for p in fake_slack.posted()[before:]] == ["after the limit"]
        fake_slack.script["chat.postMessage"] = [("error", "channel_not_found")]
        second = await client.post(
            f"/api/v1/conversations/{assigned['conversation_id']}/messages",
            json={"text": "lost channel"},
            headers=headers,
        )
        failed = await agent.wait_for(
            lambda f: f.get("message_id") == second.json()["id"] and f.get("status") == "failed"
        )
        assert failed["reason"] == "channel_not_found"
        await agent.close()


async def test_slack_as_the_agents_workspace(
    slack_system: LiveServer, fake_slack: FakeSlack, stack_urls: StackUrls
) -> None:
    team = new_team()
    async with httpx.AsyncClient(base_url=slack_system.url, timeout=30) as client:
        tenant = await signup(client)
        slack = await slack_inbox(client, tenant, team, fake_slack, channel="CAGENTS")
        web = await create_web_inbox(client, tenant)
        not_slack = await client.put(
            f"/api/v1/inboxes/{web['id']}/slack-mirror", headers=tenant.headers, json={"slack_inbox_id": web["id"]}
        )
        # Well formed, but not a Slack inbox of the account: a conflict with what exists, not a schema error.
        assert not_slack.status_code == 409 and not_slack.json()["error"]["code"] == "invalid_mirror_inbox"
        linked = await client.put(
            f"/api/v1/inboxes/{web['id']}/slack-mirror", headers=tenant.headers, json={"slack_inbox_id": slack["id"]}
        )
        assert linked.status_code == 200, linked.text
        assert linked.json()["settings"]["slack_mirror_inbox_id"] == slack["id"]
        visitor = await visitor_session(client, web["widget_token"], name="Wanda")
        visitor_socket = await Socket.open(f"{slack_system.ws_url}/api/v1/widget/ws?token={visitor['visitor_token']}")
        await visitor_socket.wait_for(lambda f: f["type"] == "session.ready")
        before = len(fake_slack.posted())
        await client.post(
            "/api/v1/widget/messages",
            json={"text": "Can someone help?"},
            headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
        )
        posts = (await fake_slack.wait_posts(before + 2))[before:]
        parent, threaded = posts[0], posts[1]
        assert parent["channel"] == "CAGENTS" and "Wanda" in parent["text"] and "thread_ts" not in parent
        assert threaded["text"] == "Can someone help?" and threaded["thread_ts"]
        # A human answers in the thread in Slack: the visitor gets it on the widget.
        reply = envelope(
            team,
            {
                "type": "message",
                "channel": "CAGENTS",
                "channel_type": "channel",
                "user": "UHUMAN",
                "text": "Hi Wanda, I am on it",
                "ts": "1800000099.000001",
                "thread_ts": threaded["thread_ts"],
            },
        )
        assert (await client.post("/webhooks/slack/events", content=reply, headers=signed(reply))).status_code == 200
        delivered = await visitor_socket.wait_for(lambda f: f["type"] == "message.created")
        assert delivered["message"]["text"] == "Hi Wanda, I am on it" and delivered["message"]["sender_type"] == "agent"
        # Agents chatting at the top level of their channel are not customers.
        chatter = envelope(
            team,
            {"type": "message", "channel": "CAGENTS", "user": "UHUMAN", "text": "lunch?", "ts": "1800000099.000002"},
        )
        ignored = await client.post("/webhooks/slack/events", content=chatter, headers=signed(chatter))
        assert ignored.status_code == 200 and ignored.json()["accepted"] == 0
        # Everything the product wrote into Slack is recorded (erasure deletes the copies through Slack's API).
        engine = create_async_engine(slack_system.env["DATABASE_URL"])
        rows: list = []
        for _ in range(100):  # the mirror records a post right after Slack answered it: wait, bounded
            async with engine.connect() as db:
                rows = (
                    await db.execute(
                        text(
                            "SELECT message_id, inbox_id, slack_channel_id, slack_ts FROM slack_mirror_messages"
                            " WHERE account_id = :a ORDER BY created_at"
                        ),
                        {"a": tenant.account_id},
                    )
                ).all()
            if len(rows) >= 2:
                break
            await asyncio.sleep(0.1)
        await engine.dispose()
        assert [(r.message_id is None, str(r.inbox_id), r.slack_channel_id) for r in rows] == [
            (True, slack["id"], "CAGENTS"),
            (False, slack["id"], "CAGENTS"),
        ]
        assert [r.slack_ts for r in rows] == fake_slack.post_ts[before : before + 2]
        assert len(fake_slack.posted()) == before + 2  # the reply is not mirrored back into Slack
        await visitor_socket.close()
        # The mirror decodes only messages of mirrored inboxes, told apart by the records' headers.
        unlinked = await create_web_inbox(client, tenant)
    resources = slack_system.apps["connectors"].state.resources
    mirror = SlackMirror(resources, slack_api(resources), InboxDirectory(resources))

    def record(inbox: str | None, channel: str = "web") -> ConsumerRecord:
        headers = [("event_type", b"message.created"), ("direction", b"inbound"), ("channel", channel.encode())]
        headers += [("inbox_id", inbox.encode())] if inbox else []
        return ConsumerRecord("conversations", 0, 0, 0, 0, b"k", b"{}", None, 1, 2, headers)

    wanted = await mirror.mirrored(
        [record(web["id"]), record(unlinked["id"]), record(slack["id"], "slack"), record(None)]
    )
    assert wanted == [True, False, False, True]  # without the header (older records): decoded, the handler decides


async def test_oauth_install_stores_only_what_it_needs(slack_system: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=slack_system.url, timeout=30) as client:
        tenant = await signup(client)
        link = await client.get("/api/v1/integrations/slack/install", headers=tenant.headers)
        assert link.status_code == 200, link.text
        query = parse_qs(urlsplit(link.json()["authorize_url"]).query)
        assert query["client_id"] == ["123.456"] and "chat:write" in query["scope"][0]
        forged = await client.get("/api/v1/integrations/slack/callback", params={"code": "c", "state": "x.y.z"})
        # A forged or used state is a refused credential (403), not a malformed request.
        assert forged.status_code == 403 and forged.json()["error"]["code"] == "invalid_state"
        done = await client.get(
            "/api/v1/integrations/slack/callback", params={"code": "code-1", "state": query["state"][0]}
        )
        assert done.status_code == 200, done.text
        assert done.json()["team_id"] == "TINSTALL" and done.json()["channel_id"] == "CSUPPORT"
        replay = await client.get(
            "/api/v1/integrations/slack/callback", params={"code": "code-1", "state": query["state"][0]}
        )
        assert replay.status_code == 403 and replay.json()["error"]["code"] == "invalid_state"
        inbox = (await client.get(f"/api/v1/inboxes/{done.json()['inbox_id']}", headers=tenant.headers)).json()
        assert inbox["settings"] == {
            "team_id": "TINSTALL",
            "channel_id": "CSUPPORT",
            "bot_user_id": "UBOT",
            "installer": {
                "email": "installer@example.com",
                "name": "Ina Staller",
                "avatar": "https://avatars.example/1.png",
            },
        }


async def test_every_key_left_in_redis_is_registered(slack_system: LiveServer, stack_urls: StackUrls) -> None:
    """What this module's run wrote to Redis was named by the key registry (tests/helpers/redis_keys.py)."""
    assert await unregistered_keys(stack_urls.redis_url, slack_system.env["REDIS_NAMESPACE"]) == []
