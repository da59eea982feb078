"""A small Slack Web API client: chat.postMessage / chat.delete / oauth.v2.access / users.info, honoring
429 ``Retry-After`` and backing off on 5xx within a bounded wait (:mod:`switchboard_connectors.retrying`)."""

from __future__ import annotations

from typing import Any

import httpx

from switchboard_connectors.retrying import PlatformClient, RetryLater, retry_after_seconds

# ``ok: false`` errors that mean "try again later": retried like a 5xx. Every other error is final.
TRANSIENT_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
MAX_TEXT = 40_000


class SlackUnavailable(ConnectionError):
    """Slack kept answering 429/5xx past our patience: the caller leaves the work on Kafka."""


class SlackError(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class SlackApi(PlatformClient):
    async def download(self, token: str, url: str, max_bytes: int) -> bytes:
        """A file's bytes (``url_private`` needs the bot token); transient failures raise SlackUnavailable."""
        try:
            async with self._client.stream(
                "GET", url, headers={"Authorization": f"Bearer {token}"}, follow_redirects=False
            ) as response:
                if response.status_code == 429 or response.status_code >= 500:
                    raise SlackUnavailable("files")
                if response.status_code != 200:
                    raise SlackError(f"http_{response.status_code}")
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise SlackError("file_too_large")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TransportError as exc:
            raise SlackUnavailable("files") from exc

    async def call(
        self,
        method: str,
        *,
        token: str | None = None,
        json: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}

        async def attempt() -> dict[str, Any]:
            try:
                response = await self._client.post(f"{self.base_url}/{method}", json=json, data=form, headers=headers)
            except httpx.TransportError as exc:
                raise RetryLater(f"network:{type(exc).__name__}") from None
            if response.status_code == 429:
                raise RetryLater("http_429", after=retry_after_seconds(response.headers.get("Retry-After")))
            if response.status_code >= 500:
                raise RetryLater(f"http_{response.status_code}")
            try:
                data: dict[str, Any] = response.json()
            except ValueError:
                raise SlackError(f"http_{response.status_code}") from None
            if not isinstance(data, dict):
                raise SlackError("unexpected_response")
            if data.get("ok"):
                return data
            error = str(data.get("error", "unknown_error"))[:100]
            if error in TRANSIENT_ERRORS:
                raise RetryLater(error)
            raise SlackError(error)

        # Slack rate-limits per workspace (token), method and channel: a 429's Retry-After holds every later
        # call with the same key, also the consumer's next attempt after we gave up (never call early).
        limit_key = (method, hash(token), str((json or {}).get("channel", "")))
        return await self.retry.run(attempt, unavailable=lambda _reason: SlackUnavailable(method), key=limit_key)

    async def post_message(self, token: str, channel: str, text: str, thread_ts: str | None = None) -> list[str]:
        """Posts (split under Slack's limit); returns the ts of each posted part."""
        parts = [text[i : i + MAX_TEXT] for i in range(0, len(text), MAX_TEXT)] or [""]
        posted = []
        for part in parts:
            body: dict[str, Any] = {"channel": channel, "text": part, "unfurl_links": False}
            if thread_ts:
                body["thread_ts"] = thread_ts
            posted.append(str((await self.call("chat.postMessage", token=token, json=body))["ts"]))
        return posted
