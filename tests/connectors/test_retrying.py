"""The retry policy the Slack and Graph clients share: transient failures retried with backoff, a server's
Retry-After honoured (and holding later calls with the same key), final errors passed through at once,
patience bounded by raising the client's "unavailable" error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from switchboard_connectors.retrying import RetryLater, RetryPolicy, retry_after_seconds


class Unavailable(ConnectionError):
    pass


def test_retry_after_forms() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) == 1.0 and retry_after_seconds("soon") == 1.0
    assert retry_after_seconds("-3") == 0.0 and retry_after_seconds("999999") == 3600.0
    in_a_minute = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert 50 <= retry_after_seconds(in_a_minute) <= 60


async def test_transient_failures_are_retried_until_success() -> None:
    policy = RetryPolicy(5.0, first_delay=0.01, max_delay=0.02)
    answers: list[object] = [RetryLater("http_500"), RetryLater("network:ConnectError"), {"ok": True}]

    async def attempt() -> object:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert await policy.run(attempt, unavailable=Unavailable) == {"ok": True}
    assert answers == []


async def test_final_errors_pass_through_at_once() -> None:
    policy = RetryPolicy(5.0, first_delay=0.01)
    calls = 0

    async def attempt() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("channel_not_found")

    with pytest.raises(ValueError, match="channel_not_found"):
        await policy.run(attempt, unavailable=Unavailable)
    assert calls == 1


async def test_a_long_retry_after_gives_up_and_holds_the_key() -> None:
    policy = RetryPolicy(2.0)
    calls = 0

    async def limited() -> str:
        nonlocal calls
        calls += 1
        raise RetryLater("http_429", after=30.0)

    with pytest.raises(Unavailable, match="http_429"):
        await policy.run(limited, unavailable=Unavailable, key="C1")
    # The next run with that key does not call before Retry-After has passed; another key is free.
    with pytest.raises(Unavailable, match="rate_limited"):
        await policy.run(limited, unavailable=Unavailable, key="C1")
    assert calls == 1

    async def fine() -> str:
        return "sent"

    assert await policy.run(fine, unavailable=Unavailable, key="C2") == "sent"


async def test_backoff_is_bounded_by_the_patience() -> None:
    policy = RetryPolicy(0.05, first_delay=0.02, max_delay=0.02)
    calls = 0

    async def failing() -> None:
        nonlocal calls
        calls += 1
        raise RetryLater("http_503")

    with pytest.raises(Unavailable, match="http_503"):
        await policy.run(failing, unavailable=Unavailable)
    assert 1 <= calls <= 4
