from __future__ import annotations

from pydantic import Field, model_validator
from switchboard_common.infra.settings import CommonSettings

# OWASP's argon2id configurations trade memory for passes: 46 MiB x 1, 19 MiB x 2, 12 MiB x 3, 9 MiB x 4,
# 7 MiB x 5. Anything cheaper than the cheapest of them is refused.
ARGON2_MIN_MEMORY_KIB = 7 * 1024
ARGON2_MIN_MEMORY_PASSES_KIB = 35 * 1024


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
    # Password hashing (switchboard_gateway.accounts.passwords): argon2id at OWASP's floor by default, in this
    # many worker processes per replica at this raised niceness (the event loop gets the CPU first); beyond
    # max_pending hashes and verifications queued or running, a request gets 429 too_many_logins.
    password_hash_workers: int = Field(default=2, ge=1, le=64)
    password_hash_max_pending: int = Field(default=16, ge=1)
    password_hash_niceness: int = Field(default=10, ge=0, le=19)
    password_hash_time_cost: int = Field(default=2, ge=1)
    password_hash_memory_kib: int = Field(default=19 * 1024, ge=ARGON2_MIN_MEMORY_KIB)
    password_hash_parallelism: int = Field(default=1, ge=1, le=64)
    # Sign-ups per client address and hour (abuse), and -- hard -- answers per address and hour that confirm an
    # e-mail is already registered (409 email_taken): the enumeration oracle (docs/security.md).
    signup_per_address_per_hour: int = 300
    signup_taken_per_address_per_hour: int = 5

    @model_validator(mode="after")
    def _argon2_at_least_owasp(self) -> GatewaySettings:
        if self.password_hash_memory_kib * self.password_hash_time_cost < ARGON2_MIN_MEMORY_PASSES_KIB:
            raise ValueError(
                "PASSWORD_HASH_MEMORY_KIB x PASSWORD_HASH_TIME_COST is below OWASP's argon2id floor "
                "(e.g. 19456 KiB x 2 or 47104 KiB x 1)"
            )
        return self
