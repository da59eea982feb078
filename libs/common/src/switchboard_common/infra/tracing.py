"""OpenTelemetry trace context from the first request to the agent's socket.

A request's W3C ``traceparent`` header (or a new trace) becomes the current span; ``EventBus.publish_many``
writes the current context into every record's Kafka headers; ``EventConsumer`` makes the record's context
current while its handler runs, so events a handler publishes continue the same trace; the gateway puts
``trace_id`` into the socket frames it pushes. Exporting is opt-in through the standard variables
(``OTEL_TRACES_EXPORTER=otlp|console``, ``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_SERVICE_NAME``); by default
spans are created (so ids exist and propagate) and dropped.

Spans carry names, kinds, ids and event types only: exceptions are not recorded on spans because their
messages may quote personal data.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import structlog
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Receive, Scope, Send

log = structlog.get_logger(__name__)

TRACER_NAME = "switchboard"
# Only W3C ``traceparent`` crosses our boundaries, in both directions. Not the global propagator: its
# ``baggage`` (and vendors' ``tracestate``) would copy whatever a client sends into every Kafka record's
# headers, outside the event encryption.
TRACEPARENT = "traceparent"
_w3c = TraceContextTextMapPropagator()
_lock = threading.Lock()
_provider: TracerProvider | None = None


def configure_tracing(service: str) -> None:
    """Installs the SDK tracer provider once per process (``make run`` hosts every service in one)."""
    global _provider
    with _lock:
        if _provider is not None:
            return
        name = os.environ.get("OTEL_SERVICE_NAME") or f"switchboard-{service}"
        provider = TracerProvider(resource=Resource.create({"service.name": name}))
        exporter = _exporter_from_env()
        if exporter is not None:
            provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        _provider = provider


def _exporter_from_env() -> SpanExporter | None:
    choice = os.environ.get("OTEL_TRACES_EXPORTER", "none").strip().lower()
    if choice in ("", "none"):
        return None
    if choice == "console":
        return ConsoleSpanExporter()
    if choice == "otlp":
        # Reads OTEL_EXPORTER_OTLP_ENDPOINT / _HEADERS / _TIMEOUT itself.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    log.warning("otel_exporter_unknown", reason="unsupported OTEL_TRACES_EXPORTER; spans are not exported")
    return None


@functools.cache
def tracer() -> trace.Tracer:
    # Looked up once: a fresh tracer per span is measurable on the consumer hot path. Before
    # configure_tracing this is the API's proxy, which follows the provider installed later.
    return trace.get_tracer(TRACER_NAME)


def _extract(carrier: dict[str, str]) -> otel_context.Context:
    return _w3c.extract({TRACEPARENT: carrier[TRACEPARENT]} if TRACEPARENT in carrier else {})


def _inject() -> dict[str, str]:
    carrier: dict[str, str] = {}
    _w3c.inject(carrier)
    return {TRACEPARENT: carrier[TRACEPARENT]} if TRACEPARENT in carrier else {}


def inject_headers() -> list[tuple[str, bytes]]:
    """The current trace context as Kafka record headers: ``traceparent`` only.

    Outside any trace (a timer or the outbox relay publishing) a producer span starts one, so the consumers
    of what it publishes still share a trace."""
    if trace.get_current_span().get_span_context().is_valid:
        carrier = _inject()
    else:
        with tracer().start_as_current_span("publish", kind=SpanKind.PRODUCER):
            carrier = _inject()
    return [(key, value.encode()) for key, value in carrier.items()]


def current_trace_id() -> str | None:
    """The current trace id as 32 hex digits, or None outside any trace."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


@contextmanager
def consumer_span(headers: Sequence[tuple[str, bytes]] | None, name: str) -> Iterator[None]:
    """Continues the trace a Kafka record carries while its handler runs."""
    carrier = {key: value.decode("latin-1") for key, value in headers or [] if isinstance(value, bytes)}
    parent = _extract(carrier)
    with tracer().start_as_current_span(
        name, context=parent, kind=SpanKind.CONSUMER, record_exception=False, set_status_on_exception=True
    ):
        yield


class TraceMiddleware:
    """Makes each HTTP request a server span, continuing the caller's ``traceparent`` when it sends one (and
    nothing else a client sends: no ``baggage``, no ``tracestate``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope.get("headers", [])}
        parent = _extract(carrier)
        # The method only: paths can carry ids and tokens; the route template is unknown before routing.
        with tracer().start_as_current_span(
            f"HTTP {scope['method']}",
            context=parent,
            kind=SpanKind.SERVER,
            record_exception=False,
            set_status_on_exception=True,
        ):
            await self.app(scope, receive, send)
