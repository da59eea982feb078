"""Owner protections and what API tokens may never do: only an owner in person demotes or removes an owner,
the last owner stays, and an integration token cannot mint logins, raise rights or touch credentials."""

from __future__ import annotations

import asyncio

import httpx

from tests.helpers.api import Tenant, create_agent, login, signup, unique_email

PASSWORD = "agent password 1"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _member(client: httpx.AsyncClient, tenant: Tenant, role: str) -> tuple[str, dict[str, str]]:
    email = unique_email(role)
    made = await client.post(
        "/api/v1/agents",
        json={"email": email, "name": role, "password": PASSWORD, "role": role},
        headers=tenant.headers,
    )
    assert made.status_code == 201, made.text
    return made.json()["id"], bearer(await login(client, email, PASSWORD))


async def _token(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, str]:
    made = await client.post(
        "/api/v1/api-tokens",
        json={"name": "integration", "scopes": ["read", "write", "privacy"]},
        headers=tenant.headers,
    )
    assert made.status_code == 201, made.text
    return bearer(made.json()["token"])


def _refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text


async def test_an_admin_cannot_demote_or_remove_the_owner(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    _admin_id, admin = await _member(client, tenant, "admin")
    for role in ("admin", "agent"):
        _refused(
            await client.patch(f"/api/v1/agents/{tenant.owner_id}", json={"role": role}, headers=admin),
            403,
            "owner_protected",
        )
    _refused(await client.delete(f"/api/v1/privacy/agents/{tenant.owner_id}", headers=admin), 403, "owner_protected")
    me = await client.get("/api/v1/me", headers=tenant.headers)
    assert me.status_code == 200 and me.json()["role"] == "owner"


async def test_an_api_token_cannot_touch_the_owner_or_mint_powers(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    token = await _token(client, tenant)
    agent_id, _ = await create_agent(client, tenant)
    owner = f"/api/v1/agents/{tenant.owner_id}"
    _refused(await client.patch(owner, json={"role": "agent"}, headers=token), 403, "api_token_forbidden")
    _refused(await client.delete(f"/api/v1/privacy/agents/{tenant.owner_id}", headers=token), 403, "owner_protected")
    # No new human login, whatever its role, and no role changes at all.
    for role in ("agent", "admin"):
        created = await client.post(
            "/api/v1/agents",
            json={"email": unique_email("minted"), "name": "x", "password": PASSWORD, "role": role},
            headers=token,
        )
        _refused(created, 403, "api_token_forbidden")
    promoted = await client.patch(f"/api/v1/agents/{agent_id}", json={"role": "admin"}, headers=token)
    _refused(promoted, 403, "api_token_forbidden")
    # Credentials and security settings need a person too.
    for method, path, body in [
        ("POST", "/api/v1/api-tokens", {"name": "another", "scopes": ["read"]}),
        ("GET", "/api/v1/api-tokens", None),
        ("POST", "/api/v1/auth/password", {"current_password": "x", "new_password": "a new long password"}),
        ("POST", "/api/v1/auth/2fa/enroll", None),
        ("POST", "/api/v1/auth/2fa/disable", {"password": "x", "code": "123456"}),
        ("PUT", "/api/v1/account/ip-allowlist", {"cidrs": []}),
        ("PUT", "/api/v1/account/security-policy", {"require_2fa": False}),
    ]:
        response = await client.request(method, path, json=body, headers=token)
        _refused(response, 403, "api_token_forbidden")
    # What it may do still works: a name change of an agent.
    renamed = await client.patch(f"/api/v1/agents/{agent_id}", json={"name": "Renamed"}, headers=token)
    assert renamed.status_code == 200, renamed.text


async def test_the_last_owner_stays_and_owners_manage_owners(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    me = f"/api/v1/agents/{tenant.owner_id}"
    _refused(await client.patch(me, json={"role": "admin"}, headers=tenant.headers), 409, "last_owner")
    _refused(
        await client.delete(f"/api/v1/privacy/agents/{tenant.owner_id}", headers=tenant.headers), 409, "last_owner"
    )

    second_id, second = await _member(client, tenant, "owner")
    # With two owners, one may step down; then the other is the last one.
    stepped = await client.patch(me, json={"role": "admin"}, headers=tenant.headers)
    assert stepped.status_code == 200 and stepped.json()["role"] == "admin"
    _refused(
        await client.patch(f"/api/v1/agents/{second_id}", json={"role": "agent"}, headers=second), 409, "last_owner"
    )
    # The former owner (now an admin) cannot touch the remaining owner.
    demote_second = await client.patch(f"/api/v1/agents/{second_id}", json={"role": "agent"}, headers=tenant.headers)
    _refused(demote_second, 403, "owner_protected")
    # An owner may remove another owner who is not the last.
    promoted = await client.patch(me, json={"role": "owner"}, headers=second)
    assert promoted.status_code == 200
    removed = await client.delete(f"/api/v1/privacy/agents/{second_id}", headers=tenant.headers)
    assert removed.status_code == 200, removed.text
    roles = {a["id"]: a["role"] for a in (await client.get("/api/v1/agents", headers=tenant.headers)).json()}
    assert roles == {tenant.owner_id: "owner"}


async def test_two_owners_demoting_each_other_at_once_leave_one_owner(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    second_id, second = await _member(client, tenant, "owner")
    first = client.patch(f"/api/v1/agents/{second_id}", json={"role": "admin"}, headers=tenant.headers)
    other = client.patch(f"/api/v1/agents/{tenant.owner_id}", json={"role": "admin"}, headers=second)
    answers = await asyncio.gather(first, other)
    assert sorted(a.status_code for a in answers) in ([200, 403], [200, 409]), [a.text for a in answers]
    roles = [a["role"] for a in (await client.get("/api/v1/agents", headers=tenant.headers)).json()]
    assert roles.count("owner") == 1, roles
