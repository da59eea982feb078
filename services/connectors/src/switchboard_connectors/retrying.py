"""Bounded retries for calls to a platform's API (Slack Web API, Meta Graph), shared by the channel clients.

A reply handler may wait for a platform for at most ``max_wait_seconds``: rate limits honour the server's
``Retry-After`` (and hold every later call with the same key until then, so the consumer's next attempt does
not call early), other transient failures (5xx, network errors, "try later" error codes) back off
exponentially. Past the patience the client's *unavailable* error (a ``ConnectionError``, hence transient for
the bus) is raised: the event stays on Kafka and is retried, never dropped, in conversation order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx

T = TypeVar("T")

MAX_RETRY_AFTER_SECONDS = 3600.0
HOLDS_LIMIT = 10_000


class RetryLater(Exception):
    """Raised by an attempt: the call may succeed later (``after``: the server's Retry-After, if it gave one)."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after


def retry_after_seconds(value: str | None, default: float = 1.0) -> float:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), within [0, 1 h]."""
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError, IndexError):
            return default
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


class RetryPolicy:
    """Runs an attempt until it returns, raises a final error, or the patience is spent."""

    def __init__(self, max_wait_seconds: float, *, first_delay: float = 0.5, max_delay: float = 8.0) -> None:
        self.max_wait_seconds = max_wait_seconds
        self.first_delay = first_delay
        self.max_delay = max_delay
        # Rate-limit key -> monotonic time before which no call with that key may be made.
        self._not_before: dict[Hashable, float] = {}

    async def run(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        unavailable: Callable[[str], Exception],
        key: Hashable | None = None,
    ) -> T:
        """``attempt`` returns the result, raises :class:`RetryLater`, or raises a final error (passed through).

        ``key`` names what the platform rate-limits (e.g. token, method and channel): a ``Retry-After`` holds
        it for every call. ``unavailable(reason)`` builds the error raised once waiting longer would exceed
        the patience.
        """
        deadline = time.monotonic() + self.max_wait_seconds
        delay = self.first_delay
        while True:
            if key is not None:
                hold = self._not_before.get(key, 0.0) - time.monotonic()
                if hold > 0:
                    if time.monotonic() + hold > deadline:
                        raise unavailable("rate_limited")
                    await asyncio.sleep(hold)
            try:
                return await attempt()
            except RetryLater as later:
                if later.after is not None:
                    wait = later.after
                    if key is not None:
                        if len(self._not_before) >= HOLDS_LIMIT:
                            self._forget_expired()
                        self._not_before[key] = time.monotonic() + wait
                else:
                    wait, delay = delay, min(delay * 2, self.max_delay)
                if time.monotonic() + wait > deadline:
                    raise unavailable(later.reason) from None
                await asyncio.sleep(wait)

    def _forget_expired(self) -> None:
        now = time.monotonic()
        for key in [k for k, until in self._not_before.items() if until <= now]:
            del self._not_before[key]
        if len(self._not_before) >= HOLDS_LIMIT:  # all still active: bound the memory anyway
            self._not_before.clear()


class PlatformClient:
    """An HTTP client for one platform's API with its retry policy. A worker of the service (start/stop), so
    stopping the service closes its connections."""

    def __init__(self, base_url: str, *, max_wait_seconds: float = 30.0, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_wait_seconds = max_wait_seconds
        self._client = httpx.AsyncClient(timeout=timeout)
        self.retry = RetryPolicy(max_wait_seconds)

    async def start(self) -> None:
        """Ready on construction."""

    async def stop(self) -> None:
        await self._client.aclose()
