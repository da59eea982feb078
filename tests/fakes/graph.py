"""A local stand-in for Meta's Graph API (Send API, handover protocol, attachment CDN) speaking the documented
payloads and errors: rate limiting as error codes 4/17/32/613 with HTTP 400/403, 5xx, the messaging-window
error (code 10, subcode 2018278). Tests script failures and read what was called.

Page access tokens belong to pages as on Meta: ``pages`` maps a token to its page, and ``GET /me`` with a token
answers that page (error 190, "Invalid OAuth access token", for any other token).

Thread control is simulated: ``owners`` maps a PSID to the app holding that thread (absent: our app or
idle). A send to a thread another app holds fails as Graph fails it (code 10, subcode 2018300);
``pass_thread_control`` hands the thread over, ``take_thread_control`` takes it back unless ``primary`` is
False (our app is then a secondary receiver and must ``request_thread_control``)."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from switchboard_devstack import free_port

VERSION = "v21.0"


@dataclass
class FakeGraph:
    port: int = field(default_factory=free_port)
    calls: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)  # (path, body, token)
    # Next answers for any Send API call: ("rate_limit", code), ("window", None), ("500", None).
    script: list[tuple[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    rejected: int = 0
    owners: dict[str, str] = field(default_factory=dict)
    primary: bool = True
    # Page access token -> the page it belongs to (see :meth:`page_token`).
    pages: dict[str, str] = field(default_factory=dict)
    # Sends refused because another app held the thread: (path, body).
    refused: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _mids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{VERSION}"

    def page_token(self, page_id: str, token: str | None = None) -> str:
        """Issues a page access token for ``page_id`` (what ``GET /me`` with it answers)."""
        token = token or f"EAAG-{page_id}-{len(self.pages) + 1}"
        self.pages[token] = page_id
        return token

    async def _me(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ") or request.query.get("access_token")
        if token not in self.pages:
            error = {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}
            return web.json_response({"error": {**error, "fbtrace_id": "A5"}}, status=400)
        return web.json_response({"id": self.pages[token], "name": f"Page {self.pages[token]}"})

    def file_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/cdn/{name}"

    async def _call(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        body = await request.json()
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.script:
            kind, value = self.script.pop(0)
            self.rejected += 1
            if kind == "rate_limit":
                error = {"message": "(#613) Calls to this api have exceeded the rate limit.", "code": value}
                return web.json_response({"error": {**error, "type": "OAuthException", "fbtrace_id": "A1"}}, status=400)
            if kind == "window":
                error = {
                    "message": "(#10) This message is sent outside of allowed window.",
                    "type": "OAuthException",
                    "code": 10,
                    "error_subcode": 2018278,
                    "fbtrace_id": "A2",
                }
                return web.json_response({"error": error}, status=400)
            if kind == "500":
                return web.json_response({"error": {"message": "An unknown error", "code": 1}}, status=500)
        psid = str(body.get("recipient", {}).get("id"))
        if path == "me/messages" and psid in self.owners:
            self.refused.append((path, body))
            error = {
                "message": "(#10) Message failed to send because another app is controlling this thread now.",
                "type": "OAuthException",
                "code": 10,
                "error_subcode": 2018300,
                "fbtrace_id": "A3",
            }
            return web.json_response({"error": error}, status=400)
        if path == "me/take_thread_control" and not self.primary:
            self.refused.append((path, body))
            error = {"message": "(#200) Only the primary receiver can take thread control", "code": 200}
            return web.json_response({"error": {**error, "type": "OAuthException", "fbtrace_id": "A4"}}, status=403)
        if path == "me/pass_thread_control":
            self.owners[psid] = str(body.get("target_app_id"))
        elif path == "me/take_thread_control":
            self.owners.pop(psid, None)
        async with self._changed:
            self.calls.append((path, body, token))
            self._changed.notify_all()
        if path == "me/messages":
            return web.json_response(
                {"recipient_id": body.get("recipient", {}).get("id"), "message_id": f"m_out_{next(self._mids)}"}
            )
        return web.json_response({"success": True})

    async def _file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="image/png")

    def sent(self, path: str = "me/messages") -> list[tuple[dict[str, Any], str]]:
        return [(body, token) for p, body, token in self.calls if p == path]

    async def wait_calls(self, path: str, count: int, timeout: float = 30.0) -> list[tuple[dict[str, Any], str]]:
        async def wait() -> list[tuple[dict[str, Any], str]]:
            async with self._changed:
                while len(self.sent(path)) < count:
                    await self._changed.wait()
                return self.sent(path)

        return await asyncio.wait_for(wait(), timeout)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get(f"/{VERSION}/me", self._me)
        app.router.add_post(f"/{VERSION}/{{path:.+}}", self._call)
        app.router.add_get("/cdn/{name}", self._file)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
