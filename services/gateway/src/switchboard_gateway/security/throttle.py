"""The password throttle every password check of the gateway shares: logins, password changes and turning
two-factor login off count against the same per-account and per-address budget."""

from __future__ import annotations

from switchboard_common.infra.runtime import Resources

from switchboard_gateway.ratelimit import LoginThrottle, RateLimiter
from switchboard_gateway.settings import GatewaySettings


def password_throttle(resources: Resources, settings: GatewaySettings) -> LoginThrottle:
    return LoginThrottle(
        RateLimiter.of(resources),
        window_seconds=settings.login_failure_window_seconds,
        free_failures=settings.login_free_failures,
        lockout_failures=settings.login_lockout_failures,
        max_backoff_seconds=settings.login_max_backoff_seconds,
        address_failures=settings.login_address_failures,
    )
