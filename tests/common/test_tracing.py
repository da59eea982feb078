"""OpenTelemetry trace context: W3C ``traceparent`` from the widget request, through Kafka record headers,
to the frame on the agent's socket."""

from __future__ import annotations

import uuid

import httpx
from opentelemetry import baggage as otel_baggage
from opentelemetry import trace
from starlette.types import Receive, Scope, Send
from switchboard_common.infra import tracing

from tests.helpers.api import Socket, create_agent, create_web_inbox, signup, visitor_session
from tests.helpers.live import LiveServer


def traceparent(trace_id: str) -> str:
    return f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"


def test_a_record_carries_the_current_context_to_its_consumer() -> None:
    tracing.configure_tracing("test")
    with tracing.tracer().start_as_current_span("request"):
        expected = tracing.current_trace_id()
        headers = tracing.inject_headers()
    assert expected is not None and tracing.current_trace_id() is None
    assert dict(headers)["traceparent"].decode().split("-")[1] == expected
    with tracing.consumer_span(headers, "consume"):
        assert tracing.current_trace_id() == expected
        # The consumer's own span is a child: same trace, new span.
        assert trace.get_current_span().get_span_context().span_id != int(
            dict(headers)["traceparent"].decode().split("-")[2], 16
        )
    with tracing.consumer_span([("event_type", b"x")], "consume"):
        assert tracing.current_trace_id() not in (None, expected)  # no header: a new trace


async def test_only_traceparent_is_taken_from_a_client_and_written_to_records() -> None:
    """A client's ``baggage`` and ``tracestate`` never reach Kafka headers (they travel outside the event
    encryption): the request's trace continues, and records carry ``traceparent`` alone."""
    tracing.configure_tracing("test")
    trace_id = uuid.uuid4().hex
    published: list[list[tuple[str, bytes]]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        published.append(tracing.inject_headers())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    transport = httpx.ASGITransport(app=tracing.TraceMiddleware(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post(
            "/",
            headers={
                "traceparent": traceparent(trace_id),
                "tracestate": "vendor=alice@example.com",
                "baggage": "user.email=alice@example.com,session=secret-value",
            },
        )
    assert response.status_code == 204
    [headers] = published
    assert [name for name, _ in headers] == ["traceparent"]
    assert dict(headers)["traceparent"].decode().split("-")[1] == trace_id
    # A consumer, too, takes only the trace from a record, whatever else a producer put beside it.
    with tracing.consumer_span([*headers, ("baggage", b"user.email=alice@example.com")], "consume"):
        assert tracing.current_trace_id() == trace_id
        assert [name for name, _ in tracing.inject_headers()] == ["traceparent"]
        assert not otel_baggage.get_all()


async def test_the_widget_request_trace_reaches_the_agent_socket(client: httpx.AsyncClient, server: LiveServer) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    _agent_id, agent_token = await create_agent(client, tenant)
    agent = await Socket.open(f"{server.ws_url}/api/v1/ws?token={agent_token}")
    await agent.wait_for(lambda f: f["type"] == "session.ready")
    visitor = await visitor_session(client, inbox["widget_token"])
    headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}

    sent = await client.post(
        "/api/v1/widget/messages",
        json={"text": "hello"},
        headers={**headers, "traceparent": traceparent(uuid.uuid4().hex)},
    )
    assert sent.status_code == 202, sent.text
    assigned = await agent.wait_for(lambda f: f["type"] == "conversation.assigned")
    # Usually the first request's trace; the router's periodic queue drain may place the conversation before
    # its event arrives, and then the assignment starts a trace of its own.
    assert len(assigned["trace_id"]) == 32

    second_trace = uuid.uuid4().hex
    sent = await client.post(
        "/api/v1/widget/messages",
        json={"text": "still there?"},
        headers={**headers, "traceparent": traceparent(second_trace)},
    )
    assert sent.status_code == 202, sent.text
    live = await agent.wait_for(lambda f: f["type"] == "message.created")
    assert live["trace_id"] == second_trace, (second_trace, agent.frames)
    await agent.close()


async def test_one_server_span_per_request_with_no_personal_attributes(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    """FastAPI's own telemetry stays off: ours is the only server span, and it names the method only."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)  # the live server configured the SDK in this process
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace_id = uuid.uuid4().hex
    email = f"someone-{uuid.uuid4().hex[:8]}@example.com"
    response = await client.post(
        "/api/v1/auth/login?hint=" + email,
        json={"email": email, "password": "not the password"},
        headers={"traceparent": traceparent(trace_id)},
    )
    assert response.status_code == 401
    spans = [s for s in exporter.get_finished_spans() if format(s.context.trace_id, "032x") == trace_id]
    assert [s.name for s in spans if s.kind == trace.SpanKind.SERVER] == ["HTTP POST"]
    assert len(spans) == 1, [s.name for s in spans]  # no per-dependency or serialization spans
    for span in spans:
        assert email not in repr(dict(span.attributes or {})) and not span.events
