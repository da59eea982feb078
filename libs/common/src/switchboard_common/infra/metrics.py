"""Prometheus metrics shared by every service (registered once per process, so `make run` can host all)."""

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter("switchboard_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram(
    "switchboard_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=LATENCY_BUCKETS,
)
EVENTS_HANDLED = Counter(
    "switchboard_events_handled_total", "Events handled by consumers", ["group", "type", "outcome"]
)
EVENT_HANDLE_SECONDS = Histogram(
    "switchboard_event_handle_seconds", "Time to handle one event", ["group", "type"], buckets=LATENCY_BUCKETS
)
CONSUMER_LAG = Gauge(
    "switchboard_kafka_consumer_lag", "Records behind the high watermark", ["group", "topic", "partition"]
)
WEBHOOKS = Counter("switchboard_webhooks_total", "Webhooks received", ["channel", "outcome"])
WEBHOOK_ACK_SECONDS = Histogram(
    "switchboard_webhook_ack_seconds", "Webhook time to acknowledge", ["channel"], buckets=LATENCY_BUCKETS
)
SIGNATURE_FAILURES = Counter("switchboard_signature_failures_total", "Rejected webhook signatures", ["channel"])
ASSIGNMENTS = Counter("switchboard_assignments_total", "Routing decisions", ["strategy", "outcome"])
QUEUE_LENGTH = Gauge("switchboard_queue_length", "Conversations waiting for an agent", ["tenant"])
ROUTING_ACCOUNTS = Gauge("switchboard_routing_accounts", "Accounts whose routing state this process holds")
ROUTING_TAKEOVERS = Counter("switchboard_routing_takeovers_total", "Accounts a routing writer took over")
ROUTING_FENCED = Counter(
    "switchboard_routing_fenced_total", "Routing batches refused because a newer writer owns the account"
)
ROUTING_BATCH_SECONDS = Histogram(
    "switchboard_routing_batch_seconds", "Time to commit one account's batch of decisions", buckets=LATENCY_BUCKETS
)
ROUTING_COMMANDS_EXPIRED = Counter(
    "switchboard_routing_commands_expired_total", "Routing commands dropped after their caller's deadline"
)
QUEUE_WAIT_SECONDS = Histogram(
    "switchboard_queue_wait_seconds",
    "Time from queued to assigned",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600),
)
OUTBOUND_DELIVERIES = Counter("switchboard_outbound_deliveries_total", "Outbound deliveries", ["channel", "outcome"])
FOREIGN_EVENTS = Counter(
    "switchboard_foreign_events_total",
    "Events dropped because their tenant id does not own the database row they name (forged on the broker)",
    ["type"],
)
WEBSOCKETS = Gauge("switchboard_websockets", "Open WebSocket connections", ["kind"])
OVERLOAD_REFUSALS = Counter(
    "switchboard_overload_refusals_total",
    "Requests refused with 503 overloaded because a dependency's connection pool was saturated",
    ["dependency"],
)
