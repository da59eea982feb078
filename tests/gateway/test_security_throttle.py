"""Password guessing and e-mail probing are throttled atomically: a parallel burst verifies no more passwords
than the lockout allows, password changes and turning 2FA off share the login budget, and sign-up answers
"e-mail taken" only a few times per address."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pyotp
import pytest
from switchboard_devstack.servers import StackUrls

from tests.helpers.api import Tenant, signup, unique_email
from tests.helpers.live import LiveServer, live_server

PASSWORD = "correct horse battery"
LOCKOUT = 10


@pytest.fixture(scope="module")
async def system(stack_urls: StackUrls) -> AsyncIterator[LiveServer]:
    # Behind a trusted proxy (the test client), so each test can come from an address of its own.
    async with live_server(stack_urls, TRUSTED_PROXIES="127.0.0.0/8", LOGIN_LOCKOUT_FAILURES=str(LOCKOUT)) as live:
        yield live


# One address per test, never drawn twice: a test that spends an address's sign-up budget (for an hour) must not
# hand it to the next (a random draw of 250 did, now and then).
_ADDRESSES = iter(f"203.0.113.{n}" for n in range(1, 255))


@pytest.fixture
async def client(system: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    address = next(_ADDRESSES)
    async with httpx.AsyncClient(base_url=system.url, timeout=60, headers={"X-Forwarded-For": address}) as http:
        yield http


async def _events(client: httpx.AsyncClient, tenant: Tenant, kind: str) -> int:
    listed = await client.get("/api/v1/account/security-events", params={"limit": 500}, headers=tenant.headers)
    assert listed.status_code == 200, listed.text
    return sum(1 for e in listed.json() if e["kind"] == kind)


async def test_a_parallel_burst_verifies_at_most_the_lockout_count(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    burst = [
        client.post("/api/v1/auth/login", json={"email": tenant.email, "password": f"wrong {i}"}) for i in range(50)
    ]
    answers = await asyncio.gather(*burst)
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {401, 429}, statuses
    # Each 401 is one verified password; the rest were refused before their password was looked at.
    assert statuses.count(401) <= LOCKOUT, statuses
    assert all(int(a.headers["Retry-After"]) >= 1 for a in answers if a.status_code == 429)
    assert await _events(client, tenant, "login_failed") == statuses.count(401)
    # The right password waits too: a guesser learns nothing.
    assert (
        await client.post("/api/v1/auth/login", json={"email": tenant.email, "password": PASSWORD})
    ).status_code == 429


async def test_a_missing_second_factor_is_not_a_failure(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    secret = (await client.post("/api/v1/auth/2fa/enroll", headers=tenant.headers)).json()["secret"]
    code = pyotp.TOTP(secret).now()
    assert (await client.post("/api/v1/auth/2fa/confirm", json={"code": code}, headers=tenant.headers)).is_success
    for _ in range(LOCKOUT + 5):
        asked = await client.post("/api/v1/auth/login", json={"email": tenant.email, "password": PASSWORD})
        assert asked.status_code == 401 and asked.json()["error"]["code"] == "totp_required", asked.text


async def test_password_change_guesses_are_throttled(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    statuses = []
    for i in range(LOCKOUT + 2):
        changed = await client.post(
            "/api/v1/auth/password",
            json={"current_password": f"guess {i}", "new_password": "a new long password"},
            headers=tenant.headers,
        )
        statuses.append(changed.status_code)
    assert statuses[-1] == 429 and set(statuses) == {401, 429}, statuses
    # The same budget as logins: the account is locked for logins too.
    login = await client.post("/api/v1/auth/login", json={"email": tenant.email, "password": PASSWORD})
    assert login.status_code == 429


async def test_two_factor_disable_guesses_are_throttled(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    secret = (await client.post("/api/v1/auth/2fa/enroll", headers=tenant.headers)).json()["secret"]
    confirmed = await client.post(
        "/api/v1/auth/2fa/confirm", json={"code": pyotp.TOTP(secret).now()}, headers=tenant.headers
    )
    assert confirmed.status_code == 200
    statuses = []
    for i in range(LOCKOUT + 2):
        disabled = await client.post(
            "/api/v1/auth/2fa/disable", json={"password": f"guess {i}", "code": "123456"}, headers=tenant.headers
        )
        statuses.append(disabled.status_code)
    assert statuses[-1] == 429 and set(statuses) == {401, 429}, statuses


async def test_signup_confirms_taken_emails_only_a_few_times_per_address(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    taken = []
    for _ in range(8):
        answer = await client.post(
            "/api/v1/signup", json={"account_name": "Probe", "email": tenant.email, "password": PASSWORD}
        )
        taken.append(answer.status_code)
    assert taken[:4] == [409] * 4 and taken[-1] == 429, taken
    # Once the budget is spent, the answer no longer depends on the e-mail: a new one is refused alike.
    fresh = await client.post(
        "/api/v1/signup", json={"account_name": "New", "email": unique_email(), "password": PASSWORD}
    )
    assert fresh.status_code == 429 and fresh.json()["error"]["code"] == "rate_limited"


async def test_new_signups_do_not_spend_the_taken_budget(client: httpx.AsyncClient) -> None:
    for _ in range(8):
        await signup(client)
