"""A local stand-in for Slack's Web API speaking the documented payloads and errors (429 + Retry-After,
5xx, ``ok: false``). Tests script failures per method and read what was called.

Bot tokens belong to workspaces as on Slack: :meth:`FakeSlack.install` (or an OAuth exchange) issues a token
for a team, and ``auth.test`` names that team; any other token is ``invalid_auth``."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from switchboard_devstack import free_port


@dataclass
class FakeSlack:
    port: int = field(default_factory=free_port)
    calls: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)  # (method, body, token)
    # Per method: the next answers to give, e.g. [("429", 1), ("error", "channel_not_found"), ("500", None)].
    script: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    downloads: list[tuple[str, str]] = field(default_factory=list)  # (file id, token)
    post_ts: list[str] = field(default_factory=list)  # the ts answered to each chat.postMessage, in order
    # Bot token -> (team id, bot user id): the workspaces this fake Slack has installed the app in.
    installs: dict[str, tuple[str, str]] = field(default_factory=dict)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def install(self, token: str, team_id: str, bot_user_id: str = "UBOT") -> str:
        """The app is installed in ``team_id`` with bot token ``token`` (what ``auth.test`` will answer)."""
        self.installs[token] = (team_id, bot_user_id)
        return token

    async def _method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            body = await request.json()
        else:
            body = dict(await request.post())
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        pending = self.script.get(method) or []
        if pending:
            kind, value = pending.pop(0)
            if kind == "429":
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(value)}
                )
            if kind == "500":
                return web.Response(status=500, text="upstream error")
            if kind == "error":
                return web.json_response({"ok": False, "error": value})
        async with self._changed:
            self.calls.append((method, body, token))
            self._changed.notify_all()
        if method == "chat.postMessage":
            self.post_ts.append(f"1800000000.{next(self._ts):06d}")
            return web.json_response(
                {
                    "ok": True,
                    "channel": body.get("channel"),
                    "ts": self.post_ts[-1],
                    "message": {"text": body.get("text")},
                }
            )
        if method == "chat.delete":
            return web.json_response({"ok": True, "channel": body.get("channel"), "ts": body.get("ts")})
        if method == "chat.update":
            return web.json_response(
                {"ok": True, "channel": body.get("channel"), "ts": body.get("ts"), "text": body.get("text")}
            )
        if method == "auth.test":
            if token not in self.installs:
                return web.json_response({"ok": False, "error": "invalid_auth"})
            team_id, bot_user_id = self.installs[token]
            return web.json_response(
                {
                    "ok": True,
                    "url": f"https://{team_id.lower()}.slack.com/",
                    "team": f"Team {team_id}",
                    "user": "switchboard",
                    "team_id": team_id,
                    "user_id": bot_user_id,
                    "bot_id": "B1",
                    "is_enterprise_install": False,
                }
            )
        if method == "oauth.v2.access":
            self.install("xoxb-installed-token-123", "TINSTALL")
            return web.json_response(
                {
                    "ok": True,
                    "access_token": "xoxb-installed-token-123",
                    "token_type": "bot",
                    "scope": "chat:write",
                    "bot_user_id": "UBOT",
                    "app_id": "A1",
                    "team": {"id": "TINSTALL", "name": "Installed"},
                    "authed_user": {"id": "UINSTALLER"},
                    "incoming_webhook": {"channel": "#support", "channel_id": "CSUPPORT"},
                }
            )
        if method == "users.info":
            return web.json_response(
                {
                    "ok": True,
                    "user": {
                        "id": body.get("user"),
                        "name": "inst",
                        "profile": {
                            "email": "installer@example.com",
                            "real_name": "Ina Staller",
                            "image_72": "https://avatars.example/1.png",
                        },
                    },
                }
            )
        return web.json_response({"ok": False, "error": "unknown_method"})

    async def _file(self, request: web.Request) -> web.Response:
        """``url_private`` downloads: only with the bot token, like Slack."""
        file_id = request.match_info["file_id"]
        self.downloads.append((file_id, request.headers.get("Authorization", "").removeprefix("Bearer ")))
        if not request.headers.get("Authorization", "").startswith("Bearer xoxb-"):
            return web.Response(status=403)
        if file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id], content_type="application/octet-stream")

    def file_url(self, file_id: str) -> str:
        return f"http://127.0.0.1:{self.port}/files-pri/{file_id}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._method)
        app.router.add_get("/files-pri/{file_id}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def posted(self) -> list[dict[str, Any]]:
        return [body for method, body, _ in self.calls if method == "chat.postMessage"]

    async def wait_posts(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        async def enough() -> list[dict[str, Any]]:
            async with self._changed:
                while len(self.posted()) < count:
                    await self._changed.wait()
                return self.posted()

        return await asyncio.wait_for(enough(), timeout)
