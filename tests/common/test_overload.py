"""A saturated connection pool (PostgreSQL or Redis) is refused fast with 503 overloaded and Retry-After, never
answered with a 500 after a 30-second wait (switchboard_common.infra.errors, POOL_TIMEOUT_SECONDS)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from prometheus_client import REGISTRY
from redis.exceptions import MaxConnectionsError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from switchboard_devstack.servers import StackUrls

from tests.helpers.api import create_web_inbox, signup, visitor_session
from tests.helpers.api_channel import post_signed
from tests.helpers.live import live_server


def refusals(dependency: str) -> float:
    return REGISTRY.get_sample_value("switchboard_overload_refusals_total", {"dependency": dependency}) or 0.0


async def hold_every_connection(engine: AsyncEngine, size: int) -> list[AsyncConnection]:
    """Checks out the pool's every connection (background workers may hold one for a moment: wait for it)."""
    held: list[AsyncConnection] = []
    for _ in range(200):
        if len(held) == size:
            return held
        connection = engine.connect()
        try:
            await connection.start()
        except PoolTimeout:
            continue
        held.append(connection)
    raise AssertionError("could not hold the pool's connections")


def assert_overloaded(answer: httpx.Response, dependency: str) -> None:
    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert error["code"] == "overloaded" and error["message"]
    assert error["details"]["dependency"] == dependency
    assert int(answer.headers["Retry-After"]) >= 1


async def test_a_saturated_database_pool_is_refused_fast_with_503(stack_urls: StackUrls) -> None:
    # Two connections (twice DB_POOL_SIZE); a checkout waits 0.2 s at most.
    async with (
        live_server(stack_urls, DB_POOL_SIZE="1", POOL_TIMEOUT_SECONDS="0.2") as live,
        # Without the bounded wait the pool would queue the request for 30 s: the client gives up before that.
        httpx.AsyncClient(base_url=live.url, timeout=15) as http,
    ):
        tenant = await signup(http)
        inbox = await create_web_inbox(http, tenant)
        visitor = await visitor_session(http, inbox["widget_token"])
        headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
        message = {"text": "hello", "client_message_id": uuid.uuid4().hex}
        engine = live.resources("gateway").engine
        before = refusals("postgres")

        held = await hold_every_connection(engine, 2)
        try:
            refused = await http.post("/api/v1/widget/messages", json=message, headers=headers)
        finally:
            for connection in held:
                await connection.close()
        assert_overloaded(refused, "postgres")
        assert refusals("postgres") == before + 1

        # Nothing was accepted, so the same message is taken once the pool has room again.
        accepted = await http.post("/api/v1/widget/messages", json=message, headers=headers)
        assert accepted.status_code == 202, accepted.text


async def test_a_saturated_database_pool_refuses_a_webhook_with_503(stack_urls: StackUrls) -> None:
    async with (
        live_server(stack_urls, DB_POOL_SIZE="1", POOL_TIMEOUT_SECONDS="0.2") as live,
        httpx.AsyncClient(base_url=live.url, timeout=15) as http,
    ):
        tenant = await signup(http)
        created = await http.post(
            "/api/v1/inboxes", headers=tenant.headers, json={"name": "Back end", "channel": "api", "settings": {}}
        )
        inbox = created.json()
        payload = {"contact": {"external_id": "c-1"}, "message": {"id": "m-1", "text": "hello"}}
        engine = live.resources("connectors").engine

        held = await hold_every_connection(engine, 2)
        try:
            refused = await post_signed(http, inbox["id"], inbox["secret"], payload)
        finally:
            for connection in held:
                await connection.close()
        assert_overloaded(refused, "postgres")

        accepted = await post_signed(http, inbox["id"], inbox["secret"], payload)
        assert accepted.status_code == 202, accepted.text


async def test_a_saturated_redis_pool_is_refused_with_503(stack_urls: StackUrls) -> None:
    async with (
        live_server(stack_urls) as live,
        httpx.AsyncClient(base_url=live.url, timeout=15) as http,
    ):
        tenant = await signup(http)
        inbox = await create_web_inbox(http, tenant)
        visitor = await visitor_session(http, inbox["widget_token"])
        headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
        message = {"text": "hello", "client_message_id": uuid.uuid4().hex}
        pool = live.resources("gateway").redis.connection_pool
        limit = pool.max_connections
        before = refusals("redis")

        # The real pool against the real server, shrunk to the connections it has, every idle one held here.
        pool.max_connections = 0
        held: list[Any] = []
        try:
            while True:
                try:
                    held.append(await pool.get_connection())
                except MaxConnectionsError:
                    break
            refused = await http.post("/api/v1/widget/messages", json=message, headers=headers)
        finally:
            pool.max_connections = limit
            for connection in held:
                await pool.release(connection)
        assert_overloaded(refused, "redis")
        assert refusals("redis") == before + 1

        accepted = await http.post("/api/v1/widget/messages", json=message, headers=headers)
        assert accepted.status_code == 202, accepted.text
