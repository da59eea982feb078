"""Schemathesis fuzzes every operation of the gateway's /openapi.json as an authenticated owner:
never a 5xx, every error a JSON body. Bounded (few examples per operation) to stay fast."""

from __future__ import annotations

import asyncio
import warnings

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import HypothesisDeprecationWarning

from tests.helpers.api import signup
from tests.helpers.live import LiveServer

EXAMPLES_PER_OPERATION = 4
SELF_LOCKING = {
    "/api/v1/auth/logout",
    "/api/v1/auth/logout-all",
    "/api/v1/auth/password",
    "/api/v1/account/security-policy",
    "/api/v1/account/ip-allowlist",
}
# Probes answer 503 by contract while a consumer group rebalances; the test checks readiness before and after.
PROBES = {"/readyz", "/healthz"}


def _fuzz(base_url: str, headers: dict[str, str]) -> list[str]:
    # schemathesis' own strategies trip a Hypothesis deprecation warning; the suite treats warnings as errors.
    warnings.simplefilter("ignore", HypothesisDeprecationWarning)
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    problems: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        # These would end or lock the fuzzer's own session (logout, password, 2FA policy, IP allowlist).
        if operation.path in SELF_LOCKING or operation.path.startswith("/api/v1/auth/2fa/"):
            continue

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call(base_url=base_url, headers=headers, timeout=30)
            label = f"{case.method} {case.formatted_path} -> {response.status_code}"
            if response.status_code >= 500 and not (response.status_code == 503 and case.path in PROBES):
                problems.append(label)
            elif response.status_code >= 400 and "json" not in str(response.headers.get("content-type", "")):
                problems.append(f"{label} (not JSON)")

        try:
            check()
        except Exception as exc:  # a failing example: record it, fuzz the rest
            problems.append(f"{operation.method.upper()} {operation.path}: {type(exc).__name__}")
    return problems


async def test_fuzzing_the_whole_api_finds_no_server_errors(server: LiveServer, client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    await eventually_ready(client)
    # schemathesis calls synchronously; the live server runs in this event loop, so fuzz from a thread.
    with warnings.catch_warnings():
        problems = await asyncio.to_thread(_fuzz, server.url, tenant.headers)
    assert not problems, "\n".join(sorted(set(problems)))
    await eventually_ready(client)  # whatever the fuzzer sent, the server is still (or again) ready


async def eventually_ready(client: httpx.AsyncClient, seconds: float = 60.0) -> None:
    for _ in range(int(seconds * 4)):
        if (await client.get("/readyz")).status_code == 200:
            return
        await asyncio.sleep(0.25)
    raise AssertionError("/readyz did not answer 200")


async def test_nul_characters_are_bad_input_not_a_server_error(client: httpx.AsyncClient) -> None:
    """PostgreSQL cannot store NUL in text: a clear 400 with the JSON error body, and nothing stored."""
    tenant = await signup(client)
    response = await client.post("/api/v1/teams", json={"name": "Bill\u0000ing"}, headers=tenant.headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_text"
    listed = await client.get("/api/v1/teams", headers=tenant.headers)
    assert listed.status_code == 200 and listed.json() == []
