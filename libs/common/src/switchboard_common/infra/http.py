"""What every service's FastAPI app has: JSON errors, a body-size limit, security headers, request
metrics, ``/healthz``, ``/readyz`` and ``/metrics`` (on the app's port only when no ``METRICS_PORT`` is set:
otherwise on that port alone, see :func:`metrics_app`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard_common.infra import metrics
from switchboard_common.infra.errors import error_body, install_error_handlers
from switchboard_common.infra.openapi import errors
from switchboard_common.infra.tracing import TraceMiddleware

ReadinessCheck = Callable[[], Awaitable[None]]


class Readiness(BaseModel):
    """``GET /readyz`` when every dependency answers (otherwise a 503 naming the failing ones)."""

    status: Literal["ok"]
    dependencies: dict[str, Literal["ok"]]


class Liveness(BaseModel):
    status: Literal["ok"]
    service: str


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


class BodyLimitMiddleware:
    """Answers 413 for bodies over the limit, by header or by counting a streamed body."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await _send_json(send, 413, error_body("payload_too_large", "request body too large"))
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await _send_json(send, 413, error_body("payload_too_large", "request body too large"))


class _BodyTooLarge(Exception):
    """Raised from the counting receive() once a streamed body passes the limit."""


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    import json

    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class ObservabilityMiddleware:
    """Security headers on every response, and request counts and latency by route template."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                present = {name for name, _ in headers}
                headers += [h for h in SECURITY_HEADERS if h[0] not in present]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            metrics.HTTP_REQUESTS.labels(self.service, scope["method"], template, str(status_holder["status"])).inc()
            metrics.HTTP_LATENCY.labels(self.service, scope["method"], template).observe(time.perf_counter() - started)


def install_common(
    app: FastAPI,
    *,
    service: str,
    max_body_bytes: int,
    readiness: Callable[[], dict[str, ReadinessCheck]],
    metrics_on_app_port: bool = True,
) -> None:
    """Adds the common middleware and the health and readiness endpoints, and ``/metrics`` unless the metrics
    have a port of their own."""
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)
    app.add_middleware(ObservabilityMiddleware, service=service)
    app.add_middleware(TraceMiddleware)  # outermost: every later step runs inside the request's trace

    @app.get("/healthz", tags=["health"], summary="Liveness", response_model=Liveness)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    # Not ready is a 503 by design (probes and load balancers read the status): while a dependency fails or a
    # consumer is still joining its group, e.g. after a rebalance. The body has the error shape and says which.
    @app.get(
        "/readyz",
        tags=["health"],
        summary="Readiness: every dependency answers",
        response_model=Readiness,
        responses=errors(unavailable="not ready: error.failing names the dependencies and consumers not ready"),
    )
    async def readyz() -> JSONResponse:
        return await check_readiness(readiness())

    if metrics_on_app_port:

        @app.get("/metrics", tags=["health"], summary="Prometheus metrics", include_in_schema=False)
        async def prometheus_metrics() -> Response:
            return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


_NOT_FOUND = b'{"error":{"code":"not_found","message":"this port serves /metrics only"}}'


async def metrics_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The metrics port's whole server: ``GET /metrics``, nothing else (no API, no docs). The process's
    metrics live in one registry, so one such server serves every app of the process."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if scope["path"] == "/metrics" and scope["method"] in ("GET", "HEAD"):
        status, content_type, body = 200, CONTENT_TYPE_LATEST, generate_latest()
    else:
        status, content_type, body = 404, "application/json", _NOT_FOUND
    headers = [(b"content-type", content_type.encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


async def check_readiness(checks: dict[str, ReadinessCheck], timeout: float = 2.0) -> JSONResponse:
    async def run(check: ReadinessCheck) -> str | None:
        try:
            await asyncio.wait_for(check(), timeout)
            return None
        except Exception as exc:
            return type(exc).__name__

    names = list(checks)
    results = await asyncio.gather(*(run(checks[n]) for n in names))
    failing = {name: error for name, error in zip(names, results, strict=True) if error is not None}
    body: dict[str, object] = {
        "status": "ok" if not failing else "unavailable",
        "dependencies": {name: ("ok" if name not in failing else "failing") for name in names},
    }
    if failing:
        body["error"] = {
            "code": "dependency_unavailable",
            "message": "dependencies failing: " + ", ".join(failing),
            "failing": sorted(failing),
        }
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)
