"""Fixtures of the fault tests: the cluster (each module builds its servers in ``cluster_sync``) and the world
(a tenant, an agent and traffic)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from tests.helpers.api import create_agent, signup, visitor_session
from tests.helpers.faults import AgentClient, Cluster, ClusterParts, Traffic, World


@pytest.fixture(scope="module")
async def cluster(cluster_sync: ClusterParts) -> AsyncIterator[Cluster]:
    stack, env, processes, log_dir = cluster_sync
    engine = create_async_engine(env["DATABASE_URL"], pool_pre_ping=True)
    try:
        yield Cluster(stack, env, processes[:2], processes[2], processes[3], engine, log_dir)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def world(cluster: Cluster) -> AsyncIterator[World]:
    gateway = cluster.gateways[0].url
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as http:
        tenant = await signup(http)
        _agent_id, agent_token = await create_agent(http, tenant, max_conversations=100)
        web = await http.post("/api/v1/inboxes", json={"name": "Site", "channel": "web"}, headers=tenant.headers)
        api = await http.post("/api/v1/inboxes", json={"name": "Shop", "channel": "api"}, headers=tenant.headers)
        assert web.status_code == 201 and api.status_code == 201, (web.text, api.text)
        visitors = [(await visitor_session(http, web.json()["widget_token"]))["visitor_token"] for _ in range(3)]
    agent = AgentClient(cluster, agent_token)
    await asyncio.wait_for(agent.ready.wait(), 30)
    world = World(cluster, tenant, agent, Traffic(cluster, visitors, api.json()))
    try:
        yield world
    finally:
        await agent.close()
