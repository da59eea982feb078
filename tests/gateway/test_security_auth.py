"""Login throttling, sessions (refresh, logout, password change), TOTP 2FA with a driven clock, API tokens."""

from __future__ import annotations

import math
import time

import httpx
import pyotp
from switchboard_gateway.security import totp

from tests.helpers.api import create_agent, signup

PASSWORD = "correct horse battery"


async def _login(client: httpx.AsyncClient, email: str, password: str = PASSWORD, **extra: str) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password, **extra})


def test_totp_accepts_each_code_once_with_a_driven_clock() -> None:
    secret = totp.new_secret()
    now = 1_800_000_000.0
    code = pyotp.TOTP(secret).at(now)
    step = totp.matching_step(secret, code, last_step=0, now=now)
    assert step == int(now // 30)
    # The same code again (replay) is refused; so is a code from two steps ago and garbage.
    assert totp.matching_step(secret, code, last_step=step, now=now) is None
    assert totp.matching_step(secret, pyotp.TOTP(secret).at(now - 60), last_step=0, now=now) is None
    assert totp.matching_step(secret, "12ab56", last_step=0, now=now) is None
    # One step of clock skew either way is tolerated.
    assert totp.matching_step(secret, pyotp.TOTP(secret).at(now + 30), last_step=0, now=now) == step + 1
    assert totp.matching_step(secret, pyotp.TOTP(secret).at(now - 30), last_step=0, now=now) == step - 1


def test_recovery_codes_carry_at_least_80_bits() -> None:
    codes = totp.new_recovery_codes()
    assert len(set(codes)) == 10
    for code in codes:
        characters = code.replace("-", "")
        assert set(characters) <= set(totp.RECOVERY_ALPHABET)
        assert len(characters) * math.log2(len(set(totp.RECOVERY_ALPHABET))) >= 80, code
        assert totp.hash_recovery_code(f" {code.upper()} ") == totp.hash_recovery_code(code)


async def test_repeated_failed_logins_are_throttled_before_the_twentieth(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    statuses = []
    for _ in range(19):
        response = await _login(client, tenant.email, "wrong password")
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) >= 1
            assert response.json()["error"]["code"] == "rate_limited"
            break
    assert statuses[-1] == 429, statuses
    assert set(statuses[:-1]) == {401}
    # Even the right password waits out the lockout: a guesser learns nothing.
    assert (await _login(client, tenant.email)).status_code == 429
    events = await client.get("/api/v1/account/security-events", headers=tenant.headers)
    kinds = [e["kind"] for e in events.json()]
    assert "login_failed" in kinds and "login_succeeded" in kinds
    assert all(PASSWORD not in str(e) and tenant.email not in str(e) for e in events.json())


async def test_refresh_rotates_and_logout_revokes(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    first = (await _login(client, tenant.email)).json()
    headers = {"Authorization": f"Bearer {first['access_token']}"}
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200

    rotated = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["refresh_token"] != first["refresh_token"]

    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    revoked = await client.get("/api/v1/me", headers=headers)
    assert revoked.status_code == 401 and revoked.json()["error"]["code"] == "token_revoked"
    new_access = {"Authorization": f"Bearer {rotated.json()['access_token']}"}
    assert (await client.get("/api/v1/me", headers=new_access)).status_code == 401
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]})
    assert refreshed.status_code == 401
    # The other login (signup helper's) still works.
    assert (await client.get("/api/v1/me", headers=tenant.headers)).status_code == 200


async def test_a_reused_refresh_token_revokes_its_whole_session(client: httpx.AsyncClient) -> None:
    """OAuth 2.0 Security BCP: a rotated refresh token presented again means someone copied it, so the thief
    (holding the old one) and the user (holding the new one) are both logged out, and it is audited."""
    tenant = await signup(client)
    stolen = (await _login(client, tenant.email)).json()
    user = await client.post("/api/v1/auth/refresh", json={"refresh_token": stolen["refresh_token"]})
    assert user.status_code == 200, user.text
    user_again = await client.post("/api/v1/auth/refresh", json={"refresh_token": user.json()["refresh_token"]})
    assert user_again.status_code == 200, user_again.text

    replayed = await client.post("/api/v1/auth/refresh", json={"refresh_token": stolen["refresh_token"]})
    assert replayed.status_code == 401 and replayed.json()["error"]["code"] == "refresh_token_reused", replayed.text
    # Everything of that session is dead: the newest refresh token and every access token issued in it.
    for refresh_token in (user_again.json()["refresh_token"], user.json()["refresh_token"]):
        dead = await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
        assert dead.status_code == 401, dead.text
    for access in (stolen["access_token"], user.json()["access_token"], user_again.json()["access_token"]):
        me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {access}"})
        assert me.status_code == 401 and me.json()["error"]["code"] == "token_revoked"
    # Other sessions of the same person are untouched.
    assert (await client.get("/api/v1/me", headers=tenant.headers)).status_code == 200
    events = (await client.get("/api/v1/account/security-events", headers=tenant.headers)).json()
    reused = [e for e in events if e["kind"] == "refresh_token_reused"]
    assert len(reused) == 1 and reused[0]["user_id"] == tenant.owner_id
    assert stolen["refresh_token"] not in str(events)


async def test_password_change_revokes_every_session(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    other = (await _login(client, tenant.email)).json()
    wrong = await client.post(
        "/api/v1/auth/password",
        json={"current_password": "nope", "new_password": "a new long password"},
        headers=tenant.headers,
    )
    assert wrong.status_code == 401
    changed = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a new long password"},
        headers=tenant.headers,
    )
    assert changed.status_code == 204
    for token in (tenant.token, other["access_token"]):
        assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    ).status_code == 401
    assert (await _login(client, tenant.email)).status_code == 401
    assert (await _login(client, tenant.email, "a new long password")).status_code == 200


async def test_two_factor_enroll_confirm_login_recovery_and_disable(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    enrolled = await client.post("/api/v1/auth/2fa/enroll", headers=tenant.headers)
    assert enrolled.status_code == 200, enrolled.text
    secret = enrolled.json()["secret"]
    assert enrolled.json()["otpauth_uri"].startswith("otpauth://totp/")
    # Not on until confirmed.
    assert (await _login(client, tenant.email)).status_code == 200
    bad = await client.post("/api/v1/auth/2fa/confirm", json={"code": "000000"}, headers=tenant.headers)
    assert bad.status_code == 403 or pyotp.TOTP(secret).now() == "000000"
    confirm_at = time.time()
    confirmed = await client.post(
        "/api/v1/auth/2fa/confirm", json={"code": pyotp.TOTP(secret).at(confirm_at)}, headers=tenant.headers
    )
    assert confirmed.status_code == 200, confirmed.text
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10

    required = await _login(client, tenant.email)
    assert required.status_code == 401 and required.json()["error"]["code"] == "totp_required"
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    assert (await _login(client, tenant.email, totp_code=wrong)).json()["error"]["code"] == "invalid_totp"
    # The next step's code: the confirming code was spent, and skew of one step is allowed.
    ok = await _login(client, tenant.email, totp_code=pyotp.TOTP(secret).at(confirm_at + 30))
    assert ok.status_code == 200, ok.text
    assert (await _login(client, tenant.email, totp_code=codes[0])).status_code == 200
    reused = await _login(client, tenant.email, totp_code=codes[0])
    assert reused.status_code == 401 and reused.json()["error"]["code"] == "invalid_totp"

    no_password = await client.post(
        "/api/v1/auth/2fa/disable", json={"password": "wrong", "code": codes[1]}, headers=tenant.headers
    )
    assert no_password.status_code == 401
    disabled = await client.post(
        "/api/v1/auth/2fa/disable", json={"password": PASSWORD, "code": codes[1]}, headers=tenant.headers
    )
    assert disabled.status_code == 204, disabled.text
    assert (await _login(client, tenant.email)).status_code == 200
    kinds = {e["kind"] for e in (await client.get("/api/v1/account/security-events", headers=tenant.headers)).json()}
    assert {"2fa_enabled", "2fa_disabled", "recovery_code_used"} <= kinds
    assert secret not in str(kinds)


async def test_owner_can_require_two_factor_for_every_agent(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    _, agent_token = await create_agent(client, tenant)
    agent = {"Authorization": f"Bearer {agent_token}"}
    forbidden = await client.put("/api/v1/account/security-policy", json={"require_2fa": True}, headers=agent)
    assert forbidden.status_code == 403
    policy = await client.put("/api/v1/account/security-policy", json={"require_2fa": True}, headers=tenant.headers)
    assert policy.status_code == 200
    blocked = await client.get("/api/v1/agents", headers=agent)
    assert blocked.status_code == 403 and blocked.json()["error"]["code"] == "totp_enrollment_required"
    secret = (await client.post("/api/v1/auth/2fa/enroll", headers=agent)).json()["secret"]
    confirm = await client.post("/api/v1/auth/2fa/confirm", json={"code": pyotp.TOTP(secret).now()}, headers=agent)
    assert confirm.status_code == 200
    assert (await client.get("/api/v1/agents", headers=agent)).status_code == 200


async def test_api_tokens_are_scoped_listed_and_revoked_at_once(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    created = await client.post("/api/v1/api-tokens", json={"name": "crm", "scopes": ["read"]}, headers=tenant.headers)
    assert created.status_code == 201, created.text
    token_id, token = created.json()["id"], created.json()["token"]
    assert token.startswith("sbt_")
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/agents", headers=bearer)).status_code == 200
    write = await client.post("/api/v1/inboxes", json={"name": "x", "channel": "web"}, headers=bearer)
    assert write.status_code == 403 and write.json()["error"]["code"] == "insufficient_scope"
    # A token cannot mint tokens or touch credentials.
    assert (await client.get("/api/v1/api-tokens", headers=bearer)).status_code == 403

    listed = (await client.get("/api/v1/api-tokens", headers=tenant.headers)).json()
    assert [t["id"] for t in listed] == [token_id]
    assert listed[0]["last_used_at"] is not None
    assert "token" not in listed[0] and token not in str(listed)

    writer = await client.post(
        "/api/v1/api-tokens", json={"name": "bot", "scopes": ["read", "write"]}, headers=tenant.headers
    )
    write_bearer = {"Authorization": f"Bearer {writer.json()['token']}"}
    made = await client.post("/api/v1/inboxes", json={"name": "x", "channel": "web"}, headers=write_bearer)
    assert made.status_code == 201, made.text

    other = await signup(client)
    assert (await client.delete(f"/api/v1/api-tokens/{token_id}", headers=other.headers)).status_code == 404
    assert (await client.delete(f"/api/v1/api-tokens/{token_id}", headers=tenant.headers)).status_code == 204
    gone = await client.get("/api/v1/agents", headers=bearer)
    assert gone.status_code == 401
    assert (await client.get("/api/v1/agents", headers={"Authorization": "Bearer sbt_guessed"})).status_code == 401
    kinds = {e["kind"] for e in (await client.get("/api/v1/account/security-events", headers=tenant.headers)).json()}
    assert {"api_token_created", "api_token_revoked"} <= kinds


async def test_only_owners_and_admins_manage_tokens(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    _, agent_token = await create_agent(client, tenant)
    agent = {"Authorization": f"Bearer {agent_token}"}
    denied = await client.post("/api/v1/api-tokens", json={"name": "x", "scopes": ["read"]}, headers=agent)
    assert denied.status_code == 403
    assert (await client.get("/api/v1/account/security-events", headers=agent)).status_code == 403
    bad_scope = await client.post("/api/v1/api-tokens", json={"name": "x", "scopes": ["root"]}, headers=tenant.headers)
    assert bad_scope.status_code == 422
