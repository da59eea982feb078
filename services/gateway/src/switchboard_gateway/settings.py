from __future__ import annotations

from switchboard_common.infra.settings import CommonSettings


class GatewaySettings(CommonSettings):
    service_name: str = "gateway"
    host: str = "0.0.0.0"
    port: int = 8000
    # Origins whose pages may call the widget API of a web inbox that lists no allowed_origins of its own
    # (comma separated, "*" for any, empty for none); an inbox's own list always wins.
    widget_allowed_origins: str = "*"
    ws_heartbeat_seconds: float = 20.0
    # Widget abuse limits (Redis, shared by replicas): messages per visitor and new sessions per client network.
    widget_messages_per_minute: int = 60
    widget_sessions_per_10_minutes: int = 120
    # Failed logins (per account, Redis, shared by replicas): free ones, then 2**n s backoff, then lockout.
    login_free_failures: int = 3
    login_lockout_failures: int = 10
    login_failure_window_seconds: int = 900
    login_max_backoff_seconds: int = 300
    # Failed logins per client address inside the window.
    login_address_failures: int = 100
    # Sign-ups per client address and hour (abuse), and -- hard -- answers per address and hour that confirm an
    # e-mail is already registered (409 email_taken): the enumeration oracle (docs/security.md).
    signup_per_address_per_hour: int = 300
    signup_taken_per_address_per_hour: int = 5
