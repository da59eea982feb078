"""``POST /webhooks/api/{inbox_id}`` against a real API inbox: whatever the body and headers, never a 5xx.

Signed bodies reach the parser (unlike requests to an unknown inbox, refused before it), and header values
are raw bytes, as a client may send them (starlette decodes them as latin-1).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from switchboard_common.infra import signing
from switchboard_connectors.channels.api.client import signed_messages

from tests.helpers.api import signup
from tests.helpers.live import LiveServer


@dataclass(frozen=True)
class ApiInbox:
    id: str
    secret: str


@pytest.fixture(scope="module")
async def api_inbox(server: LiveServer) -> ApiInbox:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        tenant = await signup(client)
        created = await client.post(
            "/api/v1/inboxes", headers=tenant.headers, json={"name": "Fuzz", "channel": "api", "settings": {}}
        )
        assert created.status_code == 201, created.text
        return ApiInbox(created.json()["id"], created.json()["secret"])


@pytest.fixture(scope="module")
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield client


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=300) | st.lists(st.text(max_size=5))
near_valid = st.fixed_dictionaries(
    {
        "contact": st.fixed_dictionaries(
            {"external_id": scalars}, optional={"name": scalars, "email": scalars, "extra": json_values}
        )
        | json_values,
        "message": st.fixed_dictionaries(
            {"id": scalars},
            optional={
                "text": scalars,
                "attachments": st.lists(
                    st.fixed_dictionaries({"url": scalars}, optional={"name": scalars, "size": scalars}) | json_values,
                    max_size=3,
                )
                | json_values,
            },
        )
        | json_values,
    },
    optional={"unexpected": json_values},
)
# What HTTP/1.1 lets a client put in a header value: visible ASCII, obs-text (0x80-0xff), inner blanks.
header_bytes = st.binary(max_size=40).map(
    lambda b: bytes(c for c in b if c == 9 or 32 <= c <= 126 or c >= 128).strip(b" \t")
)


def assert_clean_answer(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert "error" in response.json()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=near_valid | json_values, raw_tail=st.binary(max_size=8))
async def test_signed_bodies_never_5xx(
    http: httpx.AsyncClient, api_inbox: ApiInbox, payload: Any, raw_tail: bytes
) -> None:
    body = json.dumps(payload).encode() + raw_tail
    response = await http.post(
        f"/webhooks/api/{api_inbox.id}", content=body, headers=signing.signed_headers(api_inbox.secret, body)
    )
    assert_clean_answer(response)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(timestamp=header_bytes | st.integers().map(lambda i: str(i).encode()), signature=header_bytes)
async def test_raw_signature_headers_never_5xx(
    http: httpx.AsyncClient, api_inbox: ApiInbox, timestamp: bytes, signature: bytes
) -> None:
    body = b'{"contact":{"external_id":"f"},"message":{"id":"f","text":"x"}}'
    response = await http.post(
        f"/webhooks/api/{api_inbox.id}",
        content=body,
        headers=[(signing.TIMESTAMP_HEADER.encode(), timestamp), (signing.SIGNATURE_HEADER.encode(), signature)],
    )
    assert_clean_answer(response)
    assert response.status_code == 401


@pytest.mark.parametrize("timestamp", ["\u00b2".encode("latin-1"), "\u00b9\u00b2\u00b3".encode("latin-1")])
async def test_digit_like_timestamps_are_refused(
    http: httpx.AsyncClient, api_inbox: ApiInbox, timestamp: bytes
) -> None:
    # Superscript digits pass str.isdigit() but not int(): they must be a 401, not a crash.
    body = b"{}"
    headers = signing.signed_headers(api_inbox.secret, body, time.time())
    headers[signing.TIMESTAMP_HEADER] = timestamp  # type: ignore[assignment]
    response = await http.post(f"/webhooks/api/{api_inbox.id}", content=body, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "stale_timestamp"


async def test_bench_requests_are_accepted(http: httpx.AsyncClient, api_inbox: ApiInbox) -> None:
    requests = signed_messages(str(http.base_url), api_inbox.id, api_inbox.secret, contacts=2)
    answers = []
    for request in itertools.islice(requests, 3):
        response = await http.post(request.url, content=request.body, headers=request.headers)
        answers.append((response.status_code, response.json()["status"]))
    assert answers == [(202, "accepted")] * 3
