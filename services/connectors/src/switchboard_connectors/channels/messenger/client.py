"""A small Graph API client for the Send API and the handover protocol.

Rate limiting (error codes 4, 17, 32, 613, usually with HTTP 400/403; also HTTP 429) and 5xx are retried
with exponential backoff (a ``Retry-After``, when Graph sends one, is honoured) for at most
``max_wait_seconds`` (:mod:`switchboard_connectors.retrying`); past that :class:`GraphUnavailable` (a
``ConnectionError``, hence transient for the bus) leaves the reply on Kafka to be retried, never dropped.
"""

from __future__ import annotations

from typing import Any

import httpx

from switchboard_connectors.retrying import PlatformClient, RetryLater, retry_after_seconds

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
# Permanent reasons an agent can act on.
ERROR_REASONS = {10: "outside_messaging_window", 551: "recipient_unavailable", 190: "invalid_page_token"}
OUTSIDE_WINDOW_SUBCODE = 2018278
# "(#10) Message failed to send because another app is controlling this thread now" (handover protocol).
THREAD_OWNED_SUBCODE = 2018300


class GraphUnavailable(ConnectionError):
    """Graph kept rate-limiting or failing past our patience."""


class GraphError(Exception):
    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def error_reason(error: dict[str, Any]) -> str:
    code = error.get("code")
    if error.get("error_subcode") == OUTSIDE_WINDOW_SUBCODE:
        return "outside_messaging_window"
    if error.get("error_subcode") == THREAD_OWNED_SUBCODE:
        return "thread_owned_by_other_app"
    if isinstance(code, int) and code in ERROR_REASONS:
        return ERROR_REASONS[code]
    return f"graph_error_{code}" if isinstance(code, int) else "graph_error"


class GraphApi(PlatformClient):
    async def call(self, path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        async def attempt() -> dict[str, Any]:
            try:
                response = await self._client.post(
                    f"{self.base_url}/{path}", json=body, headers={"Authorization": f"Bearer {token}"}
                )
            except httpx.HTTPError as exc:
                raise RetryLater(f"network:{type(exc).__name__}") from None
            data = _json(response)
            error = data.get("error") if isinstance(data.get("error"), dict) else None
            if response.is_success and error is None:
                return data
            code = error.get("code") if error else None
            if response.status_code == 429 or response.status_code >= 500 or code in RATE_LIMIT_CODES:
                # Graph rarely sends Retry-After (usage is in X-App-Usage / X-Page-Usage): back off unless it does.
                header = response.headers.get("Retry-After")
                raise RetryLater(f"http_{response.status_code}", after=retry_after_seconds(header) if header else None)
            raise GraphError(error_reason(error or {}), code if isinstance(code, int) else None)

        # Graph limits per page (token): a Retry-After, when given, holds that page's later calls too.
        return await self.retry.run(attempt, unavailable=GraphUnavailable, key=hash(token))

    async def download(self, url: str, max_bytes: int) -> bytes:
        """An attachment's bytes (Messenger attachment URLs are pre-signed CDN links that expire)."""
        try:
            async with self._client.stream("GET", url) as response:
                if response.status_code >= 500 or response.status_code == 429:
                    raise GraphUnavailable(f"http_{response.status_code}")
                if not response.is_success:
                    raise GraphError(f"http_{response.status_code}")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise GraphError("file_too_large")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.HTTPError as exc:
            raise GraphUnavailable("download") from exc


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
