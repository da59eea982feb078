"""Small helpers for end-to-end tests: accounts, sockets, bounded waiting (never sleeps as assertions)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.helpers.live import LiveServer


@dataclass
class Tenant:
    account_id: str
    owner_id: str
    token: str
    email: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


async def login(client: httpx.AsyncClient, email: str, password: str) -> str:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def signup(client: httpx.AsyncClient, name: str = "Acme") -> Tenant:
    email = unique_email("owner")
    response = await client.post(
        "/api/v1/signup", json={"account_name": name, "email": email, "password": "correct horse battery"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    token = await login(client, email, "correct horse battery")
    return Tenant(account_id=body["account_id"], owner_id=body["user_id"], token=token, email=email)


async def create_agent(client: httpx.AsyncClient, tenant: Tenant, **fields: Any) -> tuple[str, str]:
    """Creates an agent; returns (agent id, access token)."""
    email = unique_email("agent")
    payload = {"email": email, "name": "Agent", "password": "agent password 1", "role": "agent", **fields}
    response = await client.post("/api/v1/agents", json=payload, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"]), await login(client, email, "agent password 1")


async def create_web_inbox(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    response = await client.post("/api/v1/inboxes", json={"name": "Website", "channel": "web"}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def visitor_session(client: httpx.AsyncClient, widget_token: str, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/widget/sessions", json={"widget_token": widget_token, **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


class Socket:
    """A WebSocket client that collects JSON frames, so tests can wait for one that matches."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.frames: list[dict[str, Any]] = []
        self._new = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str) -> Socket:
        return cls(await connect(url, open_timeout=10))

    async def _read(self) -> None:
        try:
            async for raw in self.connection:
                async with self._new:
                    self.frames.append(json.loads(raw))
                    self._new.notify_all()
        except ConnectionClosed:
            return  # the server went away; tests waiting for frames time out with a clear error

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30.0) -> dict[str, Any]:
        async def find() -> dict[str, Any]:
            async with self._new:
                while True:
                    for frame in self.frames:
                        if predicate(frame):
                            return frame
                    await self._new.wait()

        return await asyncio.wait_for(find(), timeout)

    async def texts_for(self, conversation_id: str, count: int, timeout: float = 30.0) -> list[str | None]:
        """The first ``count`` message texts this agent received for a conversation, in order, whichever frame
        carried them: the assignment frame holds those stored before it; when the router placed the
        conversation before its first message event was handled (its periodic queue drain), that message
        follows as its own ``message.created`` frame."""

        def collected() -> list[dict[str, Any]]:
            messages: dict[str, dict[str, Any]] = {}
            for frame in self.frames:
                if frame.get("conversation_id") != conversation_id:
                    continue
                if frame["type"] == "conversation.assigned":
                    found = frame["messages"]  # oldest first
                elif frame["type"] == "message.created":
                    found = [frame["message"]]
                else:
                    continue
                for message in found:
                    messages.setdefault(message["id"], message)
            return list(messages.values())

        await self.wait_for(lambda _f: len(collected()) >= count, timeout)
        return [m["text"] for m in collected()[:count]]

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def close(self) -> None:
        await self.connection.close()
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await self._reader


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Polls ``check`` until it returns something truthy (and returns that); fails the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(interval)


async def online_agent(client: httpx.AsyncClient, server: LiveServer, tenant: Tenant, **fields: Any) -> tuple:
    agent_id, token = await create_agent(client, tenant, **fields)
    socket = await Socket.open(f"{server.ws_url}/api/v1/ws?token={token}")
    await socket.wait_for(lambda f: f["type"] == "session.ready")
    return agent_id, token, socket
