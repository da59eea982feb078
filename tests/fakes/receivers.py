"""A local HTTP receiver standing in for a customer's back end or a CRM's webhook endpoint."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from switchboard_devstack import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each request with the next status from ``script`` (then 200), recording everything."""

    script: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    _runner: web.AppRunner | None = None
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        async with self._arrived:
            self.received.append(Received(request.path, dict(request.headers), body))
            self._arrived.notify_all()
        status = self.script.pop(0) if self.script else 200
        return web.json_response({"ok": status < 300}, status=status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, count: int, path: str | None = None, timeout: float = 30.0) -> list[Received]:
        async def enough() -> list[Received]:
            async with self._arrived:
                while True:
                    matching = [r for r in self.received if path is None or r.path == path]
                    if len(matching) >= count:
                        return matching
                    await self._arrived.wait()

        return await asyncio.wait_for(enough(), timeout)
