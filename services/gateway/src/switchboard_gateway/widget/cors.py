"""CORS for the visitor widget, per inbox: a browser on a customer's site may call ``/api/v1/widget/*`` only
from an origin the addressed web inbox lists in ``settings.allowed_origins`` (or, when the inbox lists none,
the deployment's ``WIDGET_ALLOWED_ORIGINS`` fallback). Nothing else of the API answers CORS headers, so the
agent API stays closed to other sites' scripts.

Which inbox a request addresses: the one its handler resolved (the widget token of ``/config`` and
``/sessions``, the visitor token's inbox elsewhere; see :func:`remember_inbox`). A preflight carries no body
and no token, so it is answered for the inbox of its ``widget_token`` query parameter, which the widget adds to
every call. Requests that fail before a handler resolved an inbox fall back to that parameter too.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import uuid
from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import select
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from switchboard_common.domain.accounts.auth import CurrentVisitor, VisitorPrincipal, authenticate_visitor, bearer
from switchboard_common.domain.accounts.tenancy import cross_tenant
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.infra.errors import error_body
from switchboard_common.infra.openapi import declares
from switchboard_common.infra.runtime import Resources

PREFIX = "/api/v1/widget/"
ALLOWED_METHODS = "GET, POST"
ALLOWED_HEADERS = "Authorization, Content-Type"
PREFLIGHT_MAX_AGE = "600"
_STATE_ORIGINS = "widget_cors_origins"
_STATE_INBOX = "widget_cors_inbox"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(value: str) -> str:
    """``scheme://host[:port]`` as browsers send it in ``Origin`` (lower case, default port dropped).

    Raises ValueError for anything else: paths, queries, credentials, wildcards, other schemes."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError("not an origin: expected scheme://host[:port]") from None
    if parts.scheme.lower() not in _DEFAULT_PORTS:
        raise ValueError("an origin starts with http:// or https://")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise ValueError("an origin has a host and no credentials")
    if parts.path not in ("", "/") or parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ValueError("an origin has no path, query or fragment")
    host = parts.hostname.lower()
    if "*" in host or not all(c.isalnum() or c in ".-:" for c in host):
        raise ValueError("an origin names one host (no wildcards)")
    with contextlib.suppress(ValueError):  # a DNS name is not an address
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    scheme = parts.scheme.lower()
    suffix = "" if port is None or port == _DEFAULT_PORTS[scheme] else f":{port}"
    return f"{scheme}://{host}{suffix}"


def parse_fallback(setting: str) -> tuple[str, ...]:
    """``WIDGET_ALLOWED_ORIGINS``: comma-separated origins, or ``*`` for any."""
    items = [item.strip() for item in setting.split(",") if item.strip()]
    return tuple("*" if item == "*" else normalize_origin(item) for item in items)


def inbox_origins(settings: dict[str, Any] | None, fallback: tuple[str, ...]) -> tuple[str, ...]:
    listed = (settings or {}).get("allowed_origins") or []
    return tuple(str(o) for o in listed) if listed else fallback


def origin_allowed(origin: str, allowed: Iterable[str]) -> bool:
    try:
        normalized = normalize_origin(origin)
    except ValueError:
        return False  # "null" (sandboxed frames, file://) and garbage never match
    return any(a == "*" or a == normalized for a in allowed)


def remember_inbox(request: Request, inbox: Inbox) -> None:
    """Records the inbox a widget request addressed, for the CORS answer (the handler already loaded it)."""
    request.state.widget_cors_origins = inbox_origins(inbox.settings, request.app.state.widget_cors_fallback)


async def _widget_visitor(request: Request, visitor: CurrentVisitor) -> VisitorPrincipal:
    request.state.widget_cors_inbox = visitor.inbox_id
    return visitor


# The visitor, with the visitor token's inbox recorded for the CORS answer.
WidgetVisitor = Annotated[VisitorPrincipal, Depends(_widget_visitor)]


@declares(401, 403)  # what current_visitor declares: the same token check
async def _widget_visitor_sessionless(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> VisitorPrincipal:
    visitor = authenticate_visitor(credentials.credentials if credentials else None, request.app.state.resources)
    request.state.widget_cors_inbox = visitor.inbox_id
    return visitor


# The same visitor for handlers that take no request session (the message POST, the hot path): no session is
# opened and closed around them. Handlers that read through ``SessionDep`` must use ``WidgetVisitor``, which
# scopes that session to the visitor's account.
WidgetVisitorNoSession = Annotated[VisitorPrincipal, Depends(_widget_visitor_sessionless)]


class WidgetCors:
    """ASGI middleware answering CORS for ``/api/v1/widget/*`` only, per the addressed inbox."""

    def __init__(self, app: ASGIApp, fallback: tuple[str, ...]) -> None:
        self.app = app
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        origin = headers.get("origin")
        if scope["method"] == "OPTIONS" and origin and "access-control-request-method" in headers:
            await self._preflight(scope, send, origin, headers["access-control-request-method"])
            return
        # Shared with the handler (request.state): it records the inbox it resolved.
        state = scope.setdefault("state", {})

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"vary", b"Origin")]
                if origin and origin_allowed(origin, await self._allowed_for(scope, state)):
                    extra.append((b"access-control-allow-origin", origin.encode("latin-1")))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, scope: Scope, send: Send, origin: str, method: str) -> None:
        allowed = await self._origins_for_token(scope, _widget_token(scope))
        if not origin_allowed(origin, allowed) or method.upper() not in ALLOWED_METHODS.split(", "):
            body = json.dumps(
                error_body("cors_origin_not_allowed", "this origin may not call this inbox's widget")
            ).encode()
            await _respond(send, 403, body, [(b"content-type", b"application/json")])
            return
        await _respond(
            send,
            204,
            b"",
            [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
                (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
                (b"access-control-max-age", PREFLIGHT_MAX_AGE.encode()),
            ],
        )

    async def _allowed_for(self, scope: Scope, state: dict[str, Any]) -> tuple[str, ...]:
        if _STATE_ORIGINS in state:
            return tuple(state[_STATE_ORIGINS])
        if isinstance(state.get(_STATE_INBOX), uuid.UUID):
            return await allowed_origins(scope["app"].state.resources, self.fallback, Inbox.id == state[_STATE_INBOX])
        return await self._origins_for_token(scope, _widget_token(scope))

    async def _origins_for_token(self, scope: Scope, widget_token: str | None) -> tuple[str, ...]:
        if not widget_token or len(widget_token) > 64:
            return ()
        return await allowed_origins(scope["app"].state.resources, self.fallback, Inbox.widget_token == widget_token)


async def allowed_origins(resources: Resources, fallback: tuple[str, ...], condition: Any) -> tuple[str, ...]:
    """The origins of the web inbox matching ``condition``; an unknown inbox allows none (not even the fallback).
    Before any credential is checked: the lookup that finds the inbox (and so the account) by what the request
    names."""
    async with resources.sessionmaker() as session:
        settings = await session.scalar(cross_tenant(select(Inbox.settings).where(condition, Inbox.channel == "web")))
    return () if settings is None else inbox_origins(settings, fallback)


def same_origin(origin: str, host_header: str | None) -> bool:
    """Whether ``origin`` is the gateway's own (the demo page and the console call the widget API directly)."""
    try:
        return bool(host_header) and urlsplit(origin).netloc.lower() == str(host_header).lower()
    except ValueError:
        return False


def _widget_token(scope: Scope) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("widget_token")
    return values[0] if values else None


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"vary", b"Origin"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
