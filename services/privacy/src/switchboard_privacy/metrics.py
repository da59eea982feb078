"""Privacy metrics (registered once per process)."""

from prometheus_client import Counter, Gauge

REQUESTS_COMPLETED = Counter("switchboard_privacy_requests_completed_total", "Completed privacy requests", ["type"])
STORE_FAILURES = Counter("switchboard_privacy_store_failures_total", "Failed privacy request steps", ["store"])
# Set by the request worker on every pass (RequestWorker.export_due_metrics); docs/operations.md alerts on them.
REQUESTS_BY_STATE = Gauge("switchboard_privacy_requests", "Data subject requests by state", ["state"])
REQUESTS_OVERDUE = Gauge(
    "switchboard_privacy_requests_overdue", "Data subject requests past their legal deadline and not completed"
)
REQUESTS_DUE = Gauge(
    "switchboard_privacy_requests_due", "Open privacy requests by deadline state (overdue, near_due)", ["state"]
)
RETENTION_ROWS = Counter("switchboard_privacy_retention_rows_total", "Rows removed by retention sweeps", ["category"])
LIFECYCLE_TRANSITIONS = Counter(
    "switchboard_privacy_lifecycle_transitions_total", "Account lifecycle transitions", ["to"]
)
