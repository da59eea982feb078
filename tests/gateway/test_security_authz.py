"""Generated from /openapi.json: every agent-API operation refuses other accounts, forbidden roles, visitor
tokens, expired tokens and missing tokens. New endpoints are covered as soon as they are routed."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from switchboard_common.domain.accounts.auth import current_agent, current_visitor
from switchboard_common.infra import tokens
from switchboard_common.infra.settings import DEV_SECRET_KEY

from tests.helpers.api import Tenant, create_agent, create_web_inbox, signup, visitor_session
from tests.helpers.live import LiveServer


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    agent_auth: bool
    visitor_auth: bool
    roles: frozenset[str] | None  # None: any agent


def _dependency_calls(dependant: Any) -> list[Any]:
    calls = []
    for sub in dependant.dependencies:
        calls.append(sub.call)
        calls.extend(_dependency_calls(sub))
    return calls


def _roles_required(call: Any) -> frozenset[str] | None:
    # require_role(*roles) returns a closure over ``roles``: read it from the code, not from a hand-kept list.
    if getattr(call, "__qualname__", "").startswith("require_role.") and call.__closure__:
        for cell in call.__closure__:
            if isinstance(cell.cell_contents, tuple):
                return frozenset(cell.cell_contents)
    return None


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):  # FastAPI's lazily included routers
            found.extend(_api_routes(route.original_router.routes))
    return found


def operations(app: FastAPI, spec: dict[str, Any]) -> list[Operation]:
    routes = {(m, r.path): r for r in _api_routes(app.routes) for m in r.methods}
    found = []
    for path, methods in spec["paths"].items():
        for method in methods:
            route = routes.get((method.upper(), path))
            if route is None:
                continue
            calls = _dependency_calls(route.dependant)
            roles = [r for r in map(_roles_required, calls) if r is not None]
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    agent_auth=current_agent in calls,
                    visitor_auth=current_visitor in calls,
                    roles=roles[0] if roles else None,
                )
            )
    return found


@dataclass
class World:
    owner: Tenant
    agent_token: str
    stranger: Tenant
    visitor_token: str
    ids: dict[str, str]


@pytest.fixture(scope="module")
async def world(server: LiveServer) -> World:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        owner = await signup(http)
        agent_id, agent_token = await create_agent(http, owner)
        inbox = await create_web_inbox(http, owner)
        visitor = await visitor_session(http, inbox["widget_token"])
        sent = await http.post(
            "/api/v1/widget/messages",
            json={"text": "hello"},
            headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
        )
        assert sent.status_code == 202, sent.text
        conversation_id = str(sent.json().get("conversation_id", uuid.uuid4()))
        token = await http.post("/api/v1/api-tokens", json={"name": "x", "scopes": ["read"]}, headers=owner.headers)
        stranger = await signup(http)
    # The owner's real ids: a stranger asking for them must get 404, never the row.
    ids = {
        "agent_id": agent_id,
        "inbox_id": str(inbox["id"]),
        "conversation_id": conversation_id,
        "contact_id": str(visitor["contact_id"]),
        "token_id": str(token.json()["id"]),
    }
    return World(owner, agent_token, stranger, visitor["visitor_token"], ids)


def _url(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), str(uuid.uuid4())), path)


def _expired_token(world: World) -> str:
    return tokens.issue(
        DEV_SECRET_KEY,
        kind="agent",
        subject=uuid.UUID(world.owner.owner_id),
        account_id=uuid.UUID(world.owner.account_id),
        ttl_seconds=-60,
        role="owner",
    )


async def test_every_agent_operation_refuses_outsiders(
    server: LiveServer, client: httpx.AsyncClient, world: World
) -> None:
    spec = (await client.get("/openapi.json")).json()
    ops = operations(server.apps["gateway"], spec)  # type: ignore[arg-type]
    agent_ops = [op for op in ops if op.agent_auth]
    assert len(agent_ops) >= 20, "the agent API should be discovered from /openapi.json"
    failures: list[str] = []
    owner_secrets = {world.owner.account_id, *world.ids.values()}

    async def expect(op: Operation, who: str, headers: dict[str, str], allowed: set[int]) -> None:
        response = await client.request(op.method, _url(op.path, world.ids), headers=headers, json={})
        if response.status_code not in allowed:
            failures.append(f"{op.method} {op.path} as {who}: {response.status_code} {response.text[:120]}")
        elif "json" not in response.headers.get("content-type", ""):
            failures.append(f"{op.method} {op.path} as {who}: non-JSON error")

    for op in agent_ops:
        await expect(op, "nobody", {}, {401})
        await expect(op, "expired", {"Authorization": f"Bearer {_expired_token(world)}"}, {401})
        await expect(op, "visitor", {"Authorization": f"Bearer {world.visitor_token}"}, {403})
        if op.roles is not None and "agent" not in op.roles:
            await expect(op, "agent", {"Authorization": f"Bearer {world.agent_token}"}, {403})
        if "{" in op.path:
            # Another account's owner with this account's ids: not found (422 when the body is refused first).
            await expect(op, "stranger", world.stranger.headers, {404, 422, 409})
        elif op.method == "GET":
            response = await client.get(op.path, headers=world.stranger.headers)
            leaked = [s for s in owner_secrets if s in response.text]
            if leaked:
                failures.append(f"GET {op.path} as stranger leaks another account's ids")
    assert not failures, "\n".join(failures)


async def test_visitor_operations_refuse_agent_tokens(
    server: LiveServer, client: httpx.AsyncClient, world: World
) -> None:
    spec = (await client.get("/openapi.json")).json()
    visitor_ops = [op for op in operations(server.apps["gateway"], spec) if op.visitor_auth]  # type: ignore[arg-type]
    assert visitor_ops
    for op in visitor_ops:
        for headers in ({}, world.owner.headers):
            response = await client.request(op.method, _url(op.path, world.ids), headers=headers, json={})
            assert response.status_code in (401, 403), (op, response.status_code)


async def test_agents_under_assigned_visibility_get_404_for_others_conversations(
    server: LiveServer, client: httpx.AsyncClient, world: World
) -> None:
    """A principal of the same account who may not see the conversation (``agents_see: assigned``, the
    conversation waits in an automatically routed queue): every operation naming it or its contact answers
    404, exactly like an id of another account; never a 2xx."""
    spec = (await client.get("/openapi.json")).json()
    ops = [
        op
        for op in operations(server.apps["gateway"], spec)  # type: ignore[arg-type]
        if op.agent_auth and ("{conversation_id}" in op.path or "{contact_id}" in op.path)
    ]
    assert len(ops) >= 15, "conversation and contact operations should be discovered from /openapi.json"
    agent = {"Authorization": f"Bearer {world.agent_token}"}
    conversation = f"/api/v1/conversations/{world.ids['conversation_id']}"
    assert (await client.get(conversation, headers=agent)).status_code == 200  # visible under "all"
    switched = await client.put(
        "/api/v1/account/visibility", json={"agents_see": "assigned"}, headers=world.owner.headers
    )
    assert switched.status_code == 200, switched.text
    failures: list[str] = []
    try:
        for op in ops:
            response = await client.request(op.method, _url(op.path, world.ids), headers=agent, json={})
            code = response.json().get("error", {}).get("code") if response.content else None
            allowed = response.status_code == 404 or (
                response.status_code == 422 and code == "validation_error"  # the body is refused first
            )
            if op.roles is not None and "agent" not in op.roles:
                allowed = allowed or response.status_code == 403
            if not allowed:
                failures.append(f"{op.method} {op.path}: {response.status_code} {response.text[:120]}")
        assert (await client.get(conversation, headers=world.owner.headers)).status_code == 200  # owners see all
    finally:
        await client.put("/api/v1/account/visibility", json={"agents_see": "all"}, headers=world.owner.headers)
    assert not failures, "\n".join(failures)
