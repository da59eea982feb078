"""A small Slack Web API client: chat.postMessage / chat.delete / oauth.v2.access / users.info, honoring
429 ``Retry-After`` and backing off on 5xx within a bounded wait."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

# Errors that retrying cannot fix: the reply fails and the agent is told why.
PERMANENT_ERRORS = {
    "channel_not_found",
    "not_in_channel",
    "invalid_auth",
    "token_revoked",
    "account_inactive",
    "is_archived",
    "msg_too_long",
    "no_text",
    "restricted_action",
    "not_authed",
    "missing_scope",
    "message_not_found",
    "cant_delete_message",
    "invalid_code",
    "bad_redirect_uri",
    "user_not_found",
}
# ``ok: false`` errors that mean "try again later": retried like a 5xx. Every other error is final.
TRANSIENT_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
MAX_TEXT = 40_000


def _retry_after(value: str | None) -> float:
    try:
        return min(max(float(value or 1), 0.0), 3600.0)
    except ValueError:
        return 1.0


class SlackUnavailable(ConnectionError):
    """Slack kept answering 429/5xx past our patience: the caller leaves the work on Kafka."""


class SlackError(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class SlackApi:
    def __init__(self, base_url: str, *, max_wait_seconds: float = 30.0, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_wait_seconds = max_wait_seconds
        self._client = httpx.AsyncClient(timeout=timeout)
        self._not_before: dict[tuple[str, int, str], float] = {}

    async def start(self) -> None:
        """Worker protocol: the client is ready on construction; stopping closes its connections."""

    async def stop(self) -> None:
        await self._client.aclose()

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
        deadline = time.monotonic() + self.max_wait_seconds
        delay = 0.5
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # Slack rate-limits per workspace (token), method and channel: a 429's Retry-After holds every later
        # call with the same key, also the consumer's next attempt after we gave up (never call early).
        limit_key = (method, hash(token), str((json or {}).get("channel", "")))
        while True:
            hold = self._not_before.get(limit_key, 0.0) - time.monotonic()
            if hold > 0:
                if time.monotonic() + hold > deadline:
                    raise SlackUnavailable(method)
                await asyncio.sleep(hold)
            try:
                response = await self._client.post(f"{self.base_url}/{method}", json=json, data=form, headers=headers)
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code == 429:
                wait = _retry_after(response.headers.get("Retry-After"))
                self._not_before[limit_key] = time.monotonic() + wait
                if len(self._not_before) > 10_000:
                    self._not_before.clear()
                continue
            elif response is None or response.status_code >= 500:
                wait, delay = delay, min(delay * 2, 8.0)
            else:
                try:
                    data: dict[str, Any] = response.json()
                except ValueError:
                    raise SlackError(f"http_{response.status_code}") from None
                if not isinstance(data, dict):
                    raise SlackError("unexpected_response")
                error = str(data.get("error", "unknown_error"))[:100]
                if data.get("ok"):
                    return data
                if error not in TRANSIENT_ERRORS:
                    raise SlackError(error)
                wait, delay = delay, min(delay * 2, 8.0)
            if time.monotonic() + wait > deadline:
                raise SlackUnavailable(method)
            await asyncio.sleep(wait)

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
