"""The Slack Web API client against the fake Slack: Retry-After honored, 5xx backed off, long texts split,
``ok: false`` errors classified (final ones raised, transient ones retried), patience bounded."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from switchboard_connectors.channels.slack.client import MAX_TEXT, SlackApi, SlackError, SlackUnavailable

from tests.fakes.slack import FakeSlack


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = FakeSlack()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def api(fake: FakeSlack) -> AsyncIterator[SlackApi]:
    client = SlackApi(fake.url, max_wait_seconds=10.0)
    yield client
    await client.stop()


async def test_retry_after_is_honored_and_5xx_retried(fake: FakeSlack, api: SlackApi) -> None:
    fake.script["chat.postMessage"] = [("429", 1), ("500", None), ("error", "internal_error")]
    started = time.monotonic()
    [ts] = await api.post_message("xoxb-1", "C1", "hello", thread_ts="1700000000.000100")
    assert time.monotonic() - started >= 1.0  # not called again before Retry-After elapsed
    assert ts == fake.post_ts[-1]
    assert fake.posted() == [
        {"channel": "C1", "text": "hello", "thread_ts": "1700000000.000100", "unfurl_links": False}
    ]
    assert fake.calls[-1][2] == "xoxb-1"


async def test_long_texts_are_split(fake: FakeSlack, api: SlackApi) -> None:
    text = "a" * MAX_TEXT + "b" * 10
    posted = await api.post_message("xoxb-1", "C1", text)
    assert len(posted) == 2
    assert [p["text"] for p in fake.posted()] == ["a" * MAX_TEXT, "b" * 10]


@pytest.mark.parametrize("error", ["channel_not_found", "invalid_auth", "token_revoked", "not_in_channel"])
async def test_final_errors_are_raised_at_once(fake: FakeSlack, api: SlackApi, error: str) -> None:
    fake.script["chat.postMessage"] = [("error", error)]
    with pytest.raises(SlackError) as raised:
        await api.post_message("xoxb-1", "C1", "hi")
    assert raised.value.error == error
    assert fake.posted() == []


async def test_patience_is_bounded_and_later_calls_wait_out_the_limit(fake: FakeSlack, api: SlackApi) -> None:
    fake.script["chat.postMessage"] = [("429", 30)]
    with pytest.raises(SlackUnavailable):
        await api.post_message("xoxb-1", "C1", "hi")
    # The consumer's next attempt does not hit Slack before Retry-After: it gives up without a call.
    fake.script["chat.postMessage"] = []
    with pytest.raises(SlackUnavailable):
        await api.post_message("xoxb-1", "C1", "hi")
    assert fake.posted() == []
    # Another channel is not held by that channel's limit.
    await api.post_message("xoxb-1", "C2", "other channel")
    assert [p["channel"] for p in fake.posted()] == ["C2"]


async def test_files_need_the_bot_token_and_a_size_limit(fake: FakeSlack, api: SlackApi) -> None:
    fake.files["F1"] = b"0123456789"
    assert await api.download("xoxb-1", fake.file_url("F1"), max_bytes=100) == b"0123456789"
    with pytest.raises(SlackError, match="file_too_large"):
        await api.download("xoxb-1", fake.file_url("F1"), max_bytes=5)
    with pytest.raises(SlackError):
        await api.download("xoxb-1", fake.file_url("missing"), max_bytes=100)
