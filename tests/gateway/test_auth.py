from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, event, func, insert, select, update
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.helpers.api import create_agent, create_web_inbox, signup, unique_email, visitor_session
from tests.helpers.live import LiveServer


async def test_signup_login_and_duplicates(client: httpx.AsyncClient) -> None:
    email = unique_email()
    created = await client.post("/api/v1/signup", json={"account_name": "A", "email": email, "password": "password123"})
    assert created.status_code == 201 and set(created.json()) == {"account_id", "user_id"}
    duplicate = await client.post(
        "/api/v1/signup", json={"account_name": "B", "email": email.upper(), "password": "password123"}
    )
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "email_taken"
    ok = await client.post("/api/v1/auth/login", json={"email": email, "password": "password123"})
    assert ok.status_code == 200 and ok.json()["token_type"] == "bearer"
    wrong = await client.post("/api/v1/auth/login", json={"email": email, "password": "password124"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_credentials"
    nobody = await client.post("/api/v1/auth/login", json={"email": unique_email(), "password": "password123"})
    assert nobody.status_code == 401


async def test_a_login_without_a_second_factor_is_two_statements_and_two_redis_calls(
    client: httpx.AsyncClient, server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A login flood shares the event loop with every agent socket of its replica: a plain login reads the user,
    account and second-factor state in one statement and writes its session and audit rows in another, each
    on its own (autocommit: no BEGIN and COMMIT round trips), and settles the throttle in two Redis calls."""
    tenant = await signup(client)
    gateway = server.resources("gateway")
    ours = (tenant.email, tenant.owner_id, tenant.account_id)
    statements: list[tuple[str, Any]] = []

    def record(connection: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if any(value in str(parameters) for value in ours):
            statements.append((statement.split()[0], connection.get_execution_options().get("isolation_level")))

    calls: list[str] = []
    execute = gateway.redis.execute_command

    async def counted(*args: Any, **options: Any) -> Any:
        if any("login-" in str(arg) for arg in args[1:]):
            calls.append(str(args[0]))
        return await execute(*args, **options)

    monkeypatch.setattr(gateway.redis, "execute_command", counted)
    event.listen(gateway.engine.sync_engine, "before_cursor_execute", record)
    try:
        answer = await client.post(
            "/api/v1/auth/login", json={"email": tenant.email, "password": "correct horse battery"}
        )
    finally:
        event.remove(gateway.engine.sync_engine, "before_cursor_execute", record)
        monkeypatch.undo()
    assert answer.status_code == 200, answer.text
    assert [kind for kind, _ in statements] == ["SELECT", "WITH"], statements
    assert all(level == "AUTOCOMMIT" for _, level in statements), statements
    assert calls == ["EVALSHA", "EVALSHA"], calls
    # Both rows were written: the refresh token works, and the audit has the login.
    tokens = answer.json()
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    events = await client.get("/api/v1/account/security-events", headers=tenant.headers)
    assert [e["kind"] for e in events.json()].count("login_succeeded") == 2  # signup's login and this one


async def test_the_one_statement_login_writes_nothing_for_a_user_changed_during_the_check(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    """The session and audit rows are written only if the user still is what the password check read: another
    password, role or token version, a deleted user or a second factor turned on meanwhile write nothing (the
    login then takes the full path, which answers what holds now)."""
    from switchboard_common.domain.accounts.models import AuthSession, SecurityEvent, User, UserTotp
    from switchboard_gateway.accounts import service
    from switchboard_gateway.security import sessions

    tenant = await signup(client)
    gateway = server.resources("gateway")
    found = await service.find_login(gateway.engine, tenant.email.upper())
    assert found is not None and not found.second_factor and not found.deleted and found.account_status == "active"
    now = sessions.VerifiedLogin(found.user_id, found.account_id, found.password_hash, found.role, found.token_version)

    async def rows() -> tuple[int, int]:
        async with gateway.engine.connect() as connection:
            started = await connection.scalar(
                select(func.count()).select_from(AuthSession).where(AuthSession.account_id == found.account_id)
            )
            audited = await connection.scalar(
                select(func.count()).select_from(SecurityEvent).where(SecurityEvent.account_id == found.account_id)
            )
        return int(started or 0), int(audited or 0)

    before = await rows()
    for stale in (
        replace(now, password_hash=now.password_hash + "x"),
        replace(now, role="admin"),
        replace(now, token_version=now.token_version + 1),
        replace(now, account_id=uuid.uuid4()),
    ):
        assert await sessions.start_verified(gateway.engine, server.settings(), stale, None) is None
    assert await rows() == before
    started = await sessions.start_verified(gateway.engine, server.settings(), now, "203.0.113.0/24")
    assert started is not None
    assert await rows() == (before[0] + 1, before[1] + 1)
    async with gateway.engine.begin() as connection:  # a second factor turned on during the check
        await connection.execute(
            insert(UserTotp).values(
                user_id=found.user_id, account_id=found.account_id, secret_encrypted=b"sealed", confirmed_at=func.now()
            )
        )
    assert await sessions.start_verified(gateway.engine, server.settings(), now, None) is None
    assert await rows() == (before[0] + 1, before[1] + 1)
    async with gateway.engine.begin() as connection:
        await connection.execute(delete(UserTotp).where(UserTotp.account_id == found.account_id))
        await connection.execute(
            update(User)
            .where(User.id == found.user_id, User.account_id == found.account_id)
            .values(deleted_at=func.now())
        )
    assert await sessions.start_verified(gateway.engine, server.settings(), now, None) is None
    assert await rows() == (before[0] + 1, before[1] + 1)


async def test_roles_and_tokens(client: httpx.AsyncClient, server: LiveServer) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    _agent_id, agent_token = await create_agent(client, tenant)
    agent_headers = {"Authorization": f"Bearer {agent_token}"}
    # An agent cannot create agents or inboxes.
    forbidden = await client.post(
        "/api/v1/agents", json={"email": unique_email(), "name": "x", "password": "password123"}, headers=agent_headers
    )
    assert forbidden.status_code == 403
    assert (
        await client.post("/api/v1/inboxes", json={"name": "x", "channel": "web"}, headers=agent_headers)
    ).status_code == 403
    # A visitor token never opens the agent API, over HTTP or WebSocket.
    visitor = await visitor_session(client, inbox["widget_token"])
    visitor_headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
    assert (await client.get("/api/v1/conversations", headers=visitor_headers)).status_code in (401, 403)
    assert (await client.put("/api/v1/presence", json={"status": "online"}, headers=visitor_headers)).status_code in (
        401,
        403,
    )
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{server.ws_url}/api/v1/ws?token={visitor['visitor_token']}"):
            pass
    assert refused.value.response.status_code == 403
    # No token and a forged token are 401.
    assert (await client.get("/api/v1/conversations")).status_code == 401
    assert (await client.get("/api/v1/conversations", headers={"Authorization": "Bearer x.y.z"})).status_code == 401


async def test_other_accounts_ids_are_404(client: httpx.AsyncClient) -> None:
    first = await signup(client)
    second = await signup(client)
    inbox = await create_web_inbox(client, first)
    agent_id, _ = await create_agent(client, first)
    assert (await client.get(f"/api/v1/inboxes/{inbox['id']}", headers=second.headers)).status_code == 404
    assert (
        await client.patch(f"/api/v1/agents/{agent_id}", json={"max_conversations": 1}, headers=second.headers)
    ).status_code == 404
