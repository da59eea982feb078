"""Regions: every request is served by the region that holds its account (docs/operations.md, "Regions").

A request that reaches the wrong region -- a Slack or Messenger webhook (one request URL serves every
workspace and page of the app), a login, an agent's socket, a widget call -- is forwarded to the right one
before any of its data is read or written here. What decides the region, in order:

* the request itself: the ``region`` of a sign-up (none: the default, the first of ``REGIONS``); the login
  e-mail (directory, keyed pseudonym); the Slack team, the Messenger pages, the API inbox of a webhook
  (directory); a region-tagged opaque token (``eu.…`` widget and confirmation tokens, ``sbt_eu.…`` API
  tokens, ``sbr_eu.…`` refresh tokens);
* its credentials: a bearer JWT names its account (directory);
* an explicit ``?region=`` (e.g. a Dialogflow fulfillment URL, signed export links).

Nothing found: the request stays where it is (at the local edge of ``make run``: the default region).
A forwarded request carries ``x-switchboard-forwarded-by`` and is never forwarded again. HTTP is relayed
with its body and headers untouched (webhook signatures still verify); a WebSocket is relayed frame by
frame, its close code passed on. A Messenger delivery batching pages of several regions goes to each of them
(each handles its own pages; 200 only when all did).

Single-region installations never build any of this: ``create_service_app`` installs it only when
``REGIONS`` names more than one region.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

import httpx
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard_common.infra.directory import Directory, DirectoryUnavailable
from switchboard_common.infra.errors import error_body
from switchboard_common.infra.settings import REGION_NAME, CommonSettings

log = structlog.get_logger(__name__)

HOP_HEADER = "x-switchboard-forwarded-by"
SOCKET_PATHS = ("/api/v1/ws", "/api/v1/widget/ws")
TOKEN_PREFIXES = ("sbt_", "sbr_")
BEARER_SUBPROTOCOL_PREFIX = "bearer."
# Requests whose body names their region.
_BODY_RULES = frozenset(
    {
        ("POST", "/api/v1/signup"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/refresh"),
        ("POST", "/webhooks/slack/events"),
        ("POST", "/webhooks/messenger"),
        ("POST", "/api/v1/widget/sessions"),
    }
)
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
_WS_SKIPPED = _HOP_BY_HOP | {
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
}
FIRST_FRAME_SECONDS = 10.0
WS_MAX_FRAME_BYTES = 64 * 1024


def tag(settings: CommonSettings, token: str, prefix: str = "") -> str:
    """An opaque token that names its region (``prefix`` + ``eu.`` + token) when regions are on; else the token
    as single-region installations have always issued it."""
    return f"{prefix}{settings.region}.{token}" if settings.multi_region else f"{prefix}{token}"


def tagged_region(token: str, regions: Sequence[str]) -> str | None:
    """The region a tagged opaque token names (``eu.…``, ``sbt_eu.…``), if any of ``regions``."""
    for prefix in TOKEN_PREFIXES:
        if token.startswith(prefix):
            token = token[len(prefix) :]
            break
    name, dot, _rest = token.partition(".")
    return name if dot and REGION_NAME.match(name) and name in regions else None


def jwt_account(token: str) -> str | None:
    """The ``acct`` claim of a JWT, unverified: it only picks where the token is then verified."""
    parts = token.split(".")
    if len(parts) != 3 or len(parts[1]) > 4096:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    account = claims.get("acct") if isinstance(claims, dict) else None
    return account if isinstance(account, str) and len(account) == 36 else None


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _json(body: bytes | None) -> dict[str, Any]:
    if not body:
        return {}
    with contextlib.suppress(ValueError, UnicodeDecodeError):
        data = json.loads(body)
        if isinstance(data, dict):
            return data
    return {}


def _uuid_segment(path: str, prefix: str) -> str | None:
    if not path.startswith(prefix):
        return None
    segment = path[len(prefix) :].split("/", 1)[0]
    return segment if len(segment) == 36 else None


class RegionResolver:
    def __init__(self, regions: Sequence[str], default: str, directory: Directory) -> None:
        self.regions = list(regions)
        self.default = default
        self.directory = directory

    @staticmethod
    def needs_body(scope: Scope) -> bool:
        return scope["type"] == "http" and (scope.get("method", "GET"), scope["path"]) in _BODY_RULES

    async def _token_region(self, token: str) -> str | None:
        found = tagged_region(token, self.regions)
        if found:
            return found
        account = jwt_account(token)
        return await self.directory.lookup("account", account) if account else None

    async def resolve(self, scope: Scope, body: bytes | None) -> list[str]:
        """The regions the request belongs to (usually one; empty: not known from the request)."""
        path = scope["path"]
        method = scope.get("method", "GET")
        data = _json(body) if self.needs_body(scope) else {}
        found: str | None = None
        if method == "POST" and path == "/api/v1/signup":
            region = data.get("region")
            return [region.strip().lower() if isinstance(region, str) and region.strip() else self.default]
        if method == "POST" and path == "/api/v1/auth/login" and isinstance(data.get("email"), str):
            found = await self.directory.lookup("email", self.directory.email_key(data["email"]))
        elif method == "POST" and path == "/api/v1/auth/refresh" and isinstance(data.get("refresh_token"), str):
            found = tagged_region(data["refresh_token"], self.regions)
        elif method == "POST" and path == "/webhooks/slack/events":
            team = data.get("team_id") or (data.get("team") or {}).get("id") if isinstance(data, dict) else None
            if not team and isinstance(data.get("authorizations"), list) and data["authorizations"]:
                team = (data["authorizations"][0] or {}).get("team_id")
            if isinstance(team, str) and team:
                found = await self.directory.lookup("slack_team", team)
        elif method == "POST" and path == "/webhooks/messenger":
            pages = {str(e.get("id")) for e in data.get("entry") or [] if isinstance(e, dict) and e.get("id")}
            regions = {await self.directory.lookup("messenger_page", page) for page in sorted(pages)} - {None}
            return sorted(r for r in regions if r)
        elif (inbox := _uuid_segment(path, "/webhooks/api/")) is not None:
            found = await self.directory.lookup("inbox", inbox)
        elif method == "POST" and path == "/api/v1/widget/sessions" and isinstance(data.get("widget_token"), str):
            found = tagged_region(data["widget_token"], self.regions)
        elif path.startswith("/api/v1/privacy/confirm/"):
            found = tagged_region(path.rsplit("/", 1)[-1], self.regions)
        if found:
            return [found]
        headers = _headers(scope)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = None
        authorization = headers.get("authorization", "")
        if authorization[:7].lower() == "bearer ":
            token = authorization[7:].strip()
        if token is None and scope["type"] == "websocket":
            offered = [p for p in scope.get("subprotocols") or [] if p.startswith(BEARER_SUBPROTOCOL_PREFIX)]
            token = offered[0][len(BEARER_SUBPROTOCOL_PREFIX) :] if offered else (query.get("token") or [None])[0]
        if token:
            found = await self._token_region(token)
        if not found and query.get("widget_token"):
            found = tagged_region(query["widget_token"][0], self.regions)
        if not found and query.get("state"):  # OAuth callbacks: our signed state names the account
            account = jwt_account(query["state"][0])
            found = await self.directory.lookup("account", account) if account else None
        if not found and query.get("region"):
            found = query["region"][0].strip().lower()
        return [found] if found else []


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None when it exceeds ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _respond(send: Send, status: int, code: str, message: str, details: Any = None) -> None:
    body = json.dumps(error_body(code, message, details)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RegionForwarding:
    """Sends each request to its region: the local app (``own``) or another region's URL. ``own=None`` is
    the local edge of ``make run``, which serves no region itself and sends the unknown to the default."""

    def __init__(
        self,
        *,
        own: str | None,
        regions: Sequence[str],
        urls: Mapping[str, str],
        directory: Directory,
        max_body_bytes: int,
        name: str,
    ) -> None:
        self.own = own
        self.regions = list(regions)
        self.urls = {k: v.rstrip("/") for k, v in urls.items()}
        self.resolver = RegionResolver(regions, regions[0], directory)
        self.max_body_bytes = max_body_bytes
        self.name = name
        self._client: httpx.AsyncClient | None = None

    @classmethod
    def from_settings(cls, settings: CommonSettings, directory: Directory) -> RegionForwarding:
        return cls(
            own=settings.region,
            regions=settings.region_names,
            urls=settings.region_url_map,
            directory=directory,
            max_body_bytes=settings.max_body_bytes,
            name=settings.region,
        )

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # Generous read timeout: a forwarded call waits as long as its region takes (sockets have their own).
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0), follow_redirects=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __call__(self, app: ASGIApp | None, scope: Scope, receive: Receive, send: Send) -> None:
        if app is not None and HOP_HEADER in _headers(scope):
            await app(scope, receive, send)  # forwarded once already: it is ours
            return
        body: bytes | None = None
        if RegionResolver.needs_body(scope):
            body = await _read_body(receive, self.max_body_bytes)
            if body is None:
                await _respond(send, 413, "body_too_large", f"request body exceeds {self.max_body_bytes} bytes")
                return
            receive = _replay(body, receive)
        try:
            regions = await self.resolver.resolve(scope, body)
        except DirectoryUnavailable:
            await self._refuse(scope, send, 503, "directory_unavailable", "the region directory is unavailable")
            return
        unknown = [r for r in regions if r not in self.regions]
        if unknown:
            await self._refuse(
                scope, send, 400, "unknown_region", f"no region {unknown[0]!r}", {"regions": self.regions}
            )
            return
        if not regions and scope["type"] == "websocket" and scope["path"] in SOCKET_PATHS:
            await self._socket_by_first_frame(app, scope, receive, send)
            return
        if not regions:
            regions = [self.own or self.resolver.default]
        if len(regions) > 1 and scope["type"] == "http":
            await self._fan_out(app, regions, scope, body or b"", send)
            return
        target = regions[0]
        if target == self.own and app is not None:
            await app(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._relay_socket(target, scope, receive, send)
        else:
            if body is None:
                body = await _read_body(receive, self.max_body_bytes)
                if body is None:
                    await _respond(send, 413, "body_too_large", f"request body exceeds {self.max_body_bytes} bytes")
                    return
            await self._relay_http(target, scope, body, send)

    async def _refuse(
        self, scope: Scope, send: Send, status: int, code: str, message: str, details: Any = None
    ) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013 if status >= 500 else 1008, "reason": code})
            return
        await _respond(send, status, code, message, details)

    # --- HTTP --------------------------------------------------------------------------------------------

    def _forward_headers(self, scope: Scope, skipped: frozenset[str]) -> list[tuple[str, str]]:
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope.get("headers", [])
            if k.decode("latin-1").lower() not in skipped and k.decode("latin-1").lower() != HOP_HEADER
        ]
        client = scope.get("client")
        if client:
            existing = [v for k, v in headers if k.lower() == "x-forwarded-for"]
            headers = [(k, v) for k, v in headers if k.lower() != "x-forwarded-for"]
            headers.append(("x-forwarded-for", ", ".join([*existing, str(client[0])])))
        host = _headers(scope).get("host")
        if host:
            headers.append(("x-forwarded-host", host))
        headers.append((HOP_HEADER, self.name))
        return headers

    def _target_url(self, region: str, scope: Scope, *, websocket: bool = False) -> str:
        base = self.urls[region]
        if websocket:
            base = "ws" + base[4:] if base.startswith("http") else base
        query = scope.get("query_string", b"").decode("latin-1")
        return f"{base}{scope.get('raw_path', scope['path'].encode()).decode('latin-1')}" + (
            f"?{query}" if query else ""
        )

    async def _exchange(self, region: str, scope: Scope, body: bytes) -> httpx.Response:
        request = self._http().build_request(
            scope["method"],
            self._target_url(region, scope),
            headers=self._forward_headers(scope, _HOP_BY_HOP),
            content=body,
        )
        return await self._http().send(request, stream=True)

    async def _relay_http(self, region: str, scope: Scope, body: bytes, send: Send) -> None:
        if region not in self.urls:
            await _respond(send, 503, "region_unavailable", f"region {region!r} has no address (REGION_URLS)")
            return
        try:
            response = await self._exchange(region, scope, body)
        except httpx.HTTPError as exc:
            log.warning("region_forward_failed", error=type(exc).__name__, reason=region)
            await _respond(send, 502, "region_unavailable", f"region {region!r} did not answer")
            return
        try:
            headers = [
                (k.encode("latin-1"), v.encode("latin-1"))
                for k, v in response.headers.multi_items()
                if k.lower() not in _HOP_BY_HOP or k.lower() == "content-length"
            ]
            await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()

    async def _fan_out(self, app: ASGIApp | None, regions: list[str], scope: Scope, body: bytes, send: Send) -> None:
        """One delivery for several regions (a Messenger batch): each gets it; 2xx only when every one did."""

        async def one(region: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            if region == self.own and app is not None:
                return await _call_local(app, scope, body)
            if region not in self.urls:
                return 503, [], json.dumps(error_body("region_unavailable", f"region {region!r}")).encode()
            try:
                response = await self._exchange(region, scope, body)
                content = await response.aread()
                await response.aclose()
            except httpx.HTTPError:
                return 502, [], json.dumps(error_body("region_unavailable", f"region {region!r}")).encode()
            return response.status_code, [(b"content-type", response.headers.get("content-type", "").encode())], content

        results = await asyncio.gather(*(one(r) for r in regions))
        status, headers, content = next((r for r in results if not 200 <= r[0] < 300), results[0])
        headers = [h for h in headers if h[0] != b"content-length"] + [(b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    # --- WebSocket ---------------------------------------------------------------------------------------

    async def _socket_by_first_frame(self, app: ASGIApp | None, scope: Scope, receive: Receive, send: Send) -> None:
        """A socket whose token comes in its first frame: accepted here, the frame read, then relayed to the
        token's region (or handed to the local app as if nothing happened)."""
        connect = await receive()
        offered = list(scope.get("subprotocols") or [])
        subprotocol = "switchboard" if "switchboard" in offered else None
        await send({"type": "websocket.accept", "subprotocol": subprotocol})
        first: Message | None = None
        with contextlib.suppress(TimeoutError):
            first = await asyncio.wait_for(receive(), FIRST_FRAME_SECONDS)
        region = None
        if first is not None and first["type"] == "websocket.receive":
            frame = _json((first.get("text") or "").encode() or first.get("bytes") or b"")
            if isinstance(frame.get("token"), str):
                try:
                    region = await self.resolver._token_region(frame["token"])
                except DirectoryUnavailable:
                    await send({"type": "websocket.close", "code": 1013, "reason": "directory_unavailable"})
                    return
        region = region or self.own or self.resolver.default
        replayed = [connect, *([first] if first is not None else [])]

        async def receive_again() -> Message:
            return replayed.pop(0) if replayed else await receive()

        async def send_accepted(message: Message) -> None:
            if message["type"] != "websocket.accept":  # the socket is already open
                await send(message)

        if region == self.own and app is not None:
            await app(scope, receive_again, send_accepted)
        else:
            await self._relay_socket(region, scope, receive_again, send_accepted, accepted=True)

    async def _relay_socket(
        self, region: str, scope: Scope, receive: Receive, send: Send, *, accepted: bool = False
    ) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

        message = await receive()  # websocket.connect
        if message["type"] != "websocket.connect":
            return
        if region not in self.urls:
            await send({"type": "websocket.close", "code": 1013, "reason": "region_unavailable"})
            return
        subprotocols = [p for p in scope.get("subprotocols") or [] if p]
        try:
            upstream = await connect(
                self._target_url(region, scope, websocket=True),
                subprotocols=subprotocols or None,
                additional_headers=self._forward_headers(scope, _WS_SKIPPED),
                max_size=WS_MAX_FRAME_BYTES * 16,
                open_timeout=10,
                ping_interval=None,
                compression=None,
            )
        except InvalidStatus as exc:
            # The region refused the handshake (a bad token is 403 there): refuse it here the same way.
            status = exc.response.status_code
            await send({"type": "websocket.close", "code": 1008 if status in (401, 403) else 1011})
            return
        except (OSError, TimeoutError, WebSocketException):
            await send({"type": "websocket.close", "code": 1013, "reason": "region_unavailable"})
            return
        if not accepted:
            await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})

        async def downstream_to_upstream() -> None:
            while True:
                incoming = await receive()
                if incoming["type"] == "websocket.disconnect":
                    await upstream.close(code=int(incoming.get("code") or 1000))
                    return
                if incoming["type"] == "websocket.receive":
                    await upstream.send(incoming["text"] if incoming.get("text") is not None else incoming["bytes"])

        async def upstream_to_downstream() -> None:
            # The region's side closing ends the loop; ours then closes with its code.
            with contextlib.suppress(ConnectionClosed):
                async for frame in upstream:
                    if isinstance(frame, str):
                        await send({"type": "websocket.send", "text": frame})
                    else:
                        await send({"type": "websocket.send", "bytes": frame})
            code = upstream.close_code or 1000
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": code, "reason": upstream.close_reason or ""})

        tasks = [asyncio.create_task(downstream_to_upstream()), asyncio.create_task(upstream_to_downstream())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(BaseException):
                    await task
            with contextlib.suppress(Exception):
                await upstream.close()


async def _call_local(app: ASGIApp, scope: Scope, body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Runs an HTTP request through ``app`` in process and collects its response."""
    sent = False
    status = 500
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client stays connected until the response is complete
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = int(message["status"])
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() == b"content-type"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(dict(scope), receive, send)
    return status, headers, b"".join(chunks)


class RegionForwardingMiddleware:
    """The service-side form: requests for another region are relayed there; the rest reach ``app``."""

    def __init__(self, app: ASGIApp, forwarding: RegionForwarding) -> None:
        self.app = app
        self.forwarding = forwarding

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in ("/healthz", "/readyz", "/metrics"):
            await self.app(scope, receive, send)
            return
        await self.forwarding(self.app, scope, receive, send)
