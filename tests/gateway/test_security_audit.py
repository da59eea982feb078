"""The security audit records every security-relevant change -- agents created, roles changed, the IP
allowlist, 2FA, API tokens -- with the actor and ids, never secrets, e-mails or addresses."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pyotp

from tests.helpers.api import create_agent, login, signup, unique_email

PASSWORD = "correct horse battery"


async def _events(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/account/security-events", params={"limit": 500}, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def _kinds(events: list[dict[str, Any]]) -> list[str]:
    return [e["kind"] for e in reversed(events)]  # oldest first


async def test_agents_and_roles_are_audited(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    email = unique_email("agent")
    created = await client.post(
        "/api/v1/agents",
        json={"email": email, "name": "Ada", "password": "agent password 1", "role": "agent"},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    agent_id = created.json()["id"]
    # An admin promoted by the owner; a name change and a same-role update are not security events.
    for change in ({"role": "admin"}, {"name": "Ada L."}, {"role": "admin"}):
        answer = await client.patch(f"/api/v1/agents/{agent_id}", json=change, headers=tenant.headers)
        assert answer.status_code == 200, answer.text
    admin_token = await login(client, email, "agent password 1")
    admin = {"Authorization": f"Bearer {admin_token}"}
    # An admin cannot grant owner: refused, and nothing recorded.
    refused = await client.patch(f"/api/v1/agents/{agent_id}", json={"role": "owner"}, headers=admin)
    assert refused.status_code == 403
    other_id, _ = await create_agent(client, tenant)
    demoted = await client.patch(f"/api/v1/agents/{other_id}", json={"role": "admin"}, headers=admin)
    assert demoted.status_code == 200

    events = await _events(client, tenant.headers)
    assert _kinds(events).count("role_changed") == 2 and _kinds(events).count("agent_created") == 2
    created_event = next(e for e in events if e["kind"] == "agent_created" and e["details"]["agent_id"] == agent_id)
    assert created_event["user_id"] == tenant.owner_id and created_event["details"]["role"] == "agent"
    changes = [(e["user_id"], e["details"]) for e in reversed(events) if e["kind"] == "role_changed"]
    assert changes == [
        (tenant.owner_id, {"agent_id": agent_id, "from_role": "agent", "to_role": "admin"}),
        (agent_id, {"agent_id": other_id, "from_role": "agent", "to_role": "admin"}),
    ]
    assert email not in json.dumps(events) and "agent password 1" not in json.dumps(events)
    # Agents cannot read the audit.
    _, agent_token = await create_agent(client, tenant)
    assert (
        await client.get("/api/v1/account/security-events", headers={"Authorization": f"Bearer {agent_token}"})
    ).status_code == 403
    # Removing an agent's profile (privacy service) is a security event too, naming only the ids.
    removed = await client.delete(f"/api/v1/privacy/agents/{other_id}", headers=tenant.headers)
    assert removed.status_code == 200, removed.text
    removal = [e for e in await _events(client, tenant.headers) if e["kind"] == "agent_removed"]
    assert [(e["user_id"], e["details"]) for e in removal] == [(tenant.owner_id, {"agent_id": other_id})]


async def test_tokens_allowlist_and_two_factor_changes_are_audited(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    created = await client.post(
        "/api/v1/api-tokens", json={"name": "CRM sync", "scopes": ["read", "write", "privacy"]}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    token_id, token = created.json()["id"], created.json()["token"]
    # What an integration does is attributed to its token (it may remove an agent, never create one).
    agent_id, _ = await create_agent(client, tenant)
    refused = await client.post(
        "/api/v1/agents",
        json={"email": unique_email("bot"), "name": "Via token", "password": "agent password 1"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "api_token_forbidden"
    by_token = await client.delete(f"/api/v1/privacy/agents/{agent_id}", headers={"Authorization": f"Bearer {token}"})
    assert by_token.status_code == 200, by_token.text
    for _ in range(2):  # revoking twice records one revocation
        assert (await client.delete(f"/api/v1/api-tokens/{token_id}", headers=tenant.headers)).status_code == 204

    put = await client.put(
        "/api/v1/account/ip-allowlist", json={"cidrs": ["0.0.0.0/0", "::/0"]}, headers=tenant.headers
    )
    assert put.status_code == 200, put.text
    secret = (await client.post("/api/v1/auth/2fa/enroll", headers=tenant.headers)).json()["secret"]
    confirmed = await client.post(
        "/api/v1/auth/2fa/confirm", json={"code": pyotp.TOTP(secret).now()}, headers=tenant.headers
    )
    assert confirmed.status_code == 200, confirmed.text
    # The owner has 2FA, so the policy can be switched on and off again.
    for required in (True, False):
        policy = await client.put(
            "/api/v1/account/security-policy", json={"require_2fa": required}, headers=tenant.headers
        )
        assert policy.status_code == 200, policy.text
    recovery = confirmed.json()["recovery_codes"][0]
    disabled = await client.post(
        "/api/v1/auth/2fa/disable", json={"password": PASSWORD, "code": recovery}, headers=tenant.headers
    )
    assert disabled.status_code == 204, disabled.text

    events = await _events(client, tenant.headers)
    kinds = _kinds(events)
    expected = [
        "api_token_created",
        "agent_created",
        "agent_removed",
        "api_token_revoked",
        "ip_allowlist_changed",
        "2fa_enrollment_started",
        "2fa_enabled",
        "2fa_policy_changed",
        "2fa_policy_changed",
        "2fa_disabled",
    ]
    assert [k for k in kinds if k in expected] == expected, kinds
    by_kind = {e["kind"]: e for e in reversed(events)}  # the newest of each kind
    assert by_kind["api_token_created"]["details"] == {"token_id": token_id, "scopes": ["privacy", "read", "write"]}
    assert by_kind["api_token_revoked"]["details"] == {"token_id": token_id}
    assert by_kind["agent_removed"]["details"] == {"agent_id": agent_id, "via_api_token": token_id}
    assert "via_api_token" not in by_kind["agent_created"]["details"]
    assert by_kind["ip_allowlist_changed"]["details"] == {"networks": 2}
    policies = [e["details"] for e in reversed(events) if e["kind"] == "2fa_policy_changed"]
    assert policies == [{"require_2fa": True}, {"require_2fa": False}]
    assert all(e["user_id"] == tenant.owner_id for e in events if e["kind"] != "login_succeeded")
    # (the removed agent's own events lost their network: pseudonymized)
    assert all(e["ip_prefix"] == "127.0.0.0/24" for e in events if e["user_id"] != agent_id)
    dumped = json.dumps(events)
    for secret_value in (token, secret, recovery, PASSWORD, tenant.email, "0.0.0.0/0"):
        assert secret_value not in dumped


async def test_deleting_an_agent_keeps_their_security_history_pseudonymized(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    email = unique_email("leaver")
    made = await client.post(
        "/api/v1/agents",
        json={"email": email, "name": "Lea Ver", "password": "agent password 1", "role": "admin"},
        headers=tenant.headers,
    )
    agent_id = made.json()["id"]
    admin = {"Authorization": f"Bearer {await login(client, email, 'agent password 1')}"}
    created = await client.post("/api/v1/api-tokens", json={"name": "theirs", "scopes": ["read"]}, headers=admin)
    assert created.status_code == 201
    theirs_before = [e for e in await _events(client, tenant.headers) if e["user_id"] == agent_id]
    assert {e["kind"] for e in theirs_before} >= {"login_succeeded", "api_token_created"}
    assert all(e["ip_prefix"] for e in theirs_before)

    removed = await client.delete(f"/api/v1/privacy/agents/{agent_id}", headers=tenant.headers)
    assert removed.status_code == 200, removed.text
    events = await _events(client, tenant.headers)
    theirs_after = [e for e in events if e["user_id"] == agent_id]
    # Every event is still there, now about the placeholder, without the networks the person used.
    assert [e["id"] for e in theirs_after] == [e["id"] for e in theirs_before]
    assert all(e["ip_prefix"] is None for e in theirs_after)
    assert any(e["kind"] == "agent_removed" and e["details"]["agent_id"] == agent_id for e in events)
    agents = (await client.get("/api/v1/agents", headers=tenant.headers)).json()
    assert agent_id not in [a["id"] for a in agents]
    dumped = json.dumps(events)
    assert email not in dumped and "Lea Ver" not in dumped
