"""Widget abuse limits, counted in Redis so every gateway replica shares them."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from redis.asyncio import Redis
from switchboard_devstack.servers import StackUrls
from switchboard_gateway.ratelimit import RateLimiter

from tests.helpers.api import create_web_inbox, signup, visitor_session
from tests.helpers.live import live_server


async def test_widget_messages_are_rate_limited(stack_urls: StackUrls) -> None:
    async with (
        live_server(stack_urls, WIDGET_MESSAGES_PER_MINUTE="3") as live,
        httpx.AsyncClient(base_url=live.url, timeout=30) as http,
    ):
        tenant = await signup(http)
        inbox = await create_web_inbox(http, tenant)
        visitor = await visitor_session(http, inbox["widget_token"])
        headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
        answers = [
            (await http.post("/api/v1/widget/messages", json={"text": f"m{i}"}, headers=headers)) for i in range(4)
        ]
        assert [a.status_code for a in answers] == [202, 202, 202, 429]
        assert answers[-1].json()["error"]["code"] == "rate_limited" and int(answers[-1].headers["Retry-After"]) >= 1


class CountingRedis(Redis):
    """The real server; counts what the client sends (single commands and pipelines)."""

    commands: list[str]
    pipelines = 0

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        self.commands.append(str(args[0]))
        return await super().execute_command(*args, **options)

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Any:
        type(self).pipelines += 1
        return super().pipeline(transaction, shard_hint)


async def test_the_message_limit_and_the_dedupe_read_are_one_command(stack_urls: StackUrls) -> None:
    """The widget POST's Redis work is one command (a script), not a pipeline the client builds and parses."""
    async with live_server(stack_urls) as live:
        res = live.resources("gateway")
        redis = CountingRedis.from_url(stack_urls.redis_url, decode_responses=True)
        redis.commands = []
        try:
            limiter = RateLimiter(redis, res.keys, res.pseudonyms)
            scope, key, seen = "widget-messages", uuid.uuid4().hex, res.keys.widget_message(uuid.uuid4())
            await redis.set(seen, "conversation", ex=60)
            redis.commands.clear()
            decisions = [
                await limiter.hit_and_get(scope, key, limit=2, window_seconds=60, get=seen if i == 1 else None)
                for i in range(3)
            ]
            assert len(redis.commands) == 3 and CountingRedis.pipelines == 0, redis.commands
            assert [d.allowed for d, _ in decisions] == [True, True, False]
            assert [v for _, v in decisions] == [None, "conversation", None]
            assert decisions[-1][0].count == 3 and 1 <= decisions[-1][0].retry_after <= 60
            assert 0 < await redis.ttl(res.keys.rate(scope, key)) <= 60
        finally:
            await redis.aclose()


def test_the_message_post_opens_no_request_session() -> None:
    """The POST reads through one autocommit connection of its own: a request session opened and closed
    around it (a generator dependency) is pure overhead on the busiest endpoint."""
    from switchboard_common.domain.accounts.auth import get_session
    from switchboard_gateway.widget.views import router

    route = next(r for r in router.routes if getattr(r, "path", "").endswith("/messages") and "POST" in r.methods)

    def calls(dependant: Any) -> list[Any]:
        return [dependant.call, *(c for d in dependant.dependencies for c in calls(d))]

    assert get_session not in calls(route.dependant)


async def test_a_continuing_message_reads_past_sqlalchemys_execution_layer(stack_urls: StackUrls) -> None:
    """The ack path's one read goes to asyncpg as it is: compiling, executing and wrapping it through
    SQLAlchemy cost more CPU than the round trip (issue 17). Its answer is the same."""
    from sqlalchemy import event

    async with (
        live_server(stack_urls) as live,
        httpx.AsyncClient(base_url=live.url, timeout=30) as http,
    ):
        tenant = await signup(http)
        inbox = await create_web_inbox(http, tenant)
        visitor = await visitor_session(http, inbox["widget_token"])
        headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
        first = await http.post("/api/v1/widget/messages", json={"text": "opens the conversation"}, headers=headers)
        assert first.status_code == 202, first.text
        statements: list[str] = []
        engine = live.resources("gateway").engine.sync_engine

        def executed(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", executed)
        try:
            answers = [
                await http.post("/api/v1/widget/messages", json={"text": "again", **extra}, headers=headers)
                for extra in ({}, {"client_message_id": "c-1"}, {"client_message_id": "c-1"})
            ]
        finally:
            event.remove(engine, "before_cursor_execute", executed)
        # The process's consumers use the same engine meanwhile: only the ack path's lookup must not be there.
        assert not [s for s in statements if "(SELECT 1) AS one" in s], statements
        assert [a.status_code for a in answers] == [202, 202, 202], [a.text for a in answers]
        bodies = [a.json() for a in answers]
        assert {b["conversation_id"] for b in bodies} == {first.json()["conversation_id"]}
        assert set(bodies[0]) == {"message_id", "conversation_id"} and bodies[1] == bodies[2]


async def test_a_new_visitors_burst_opens_one_conversation_in_one_transaction(stack_urls: StackUrls) -> None:
    """Messages of a new visitor sent together: one request opens the conversation, the others wait for it
    instead of each opening a transaction that waits on its row lock with a pooled connection in hand (a burst of
    new visitors filled the pool so and was refused with 503 overloaded: issue 17)."""
    import asyncio

    from sqlalchemy import event

    async with (
        live_server(stack_urls) as live,
        httpx.AsyncClient(base_url=live.url, timeout=30) as http,
    ):
        tenant = await signup(http)
        inbox = await create_web_inbox(http, tenant)
        visitor = await visitor_session(http, inbox["widget_token"])
        headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
        inserts: list[str] = []
        engine = live.resources("gateway").engine.sync_engine

        def executed(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO CONVERSATIONS"):
                inserts.append(statement)

        event.listen(engine, "before_cursor_execute", executed)
        try:
            answers = await asyncio.gather(
                *(http.post("/api/v1/widget/messages", json={"text": f"m{i}"}, headers=headers) for i in range(8))
            )
        finally:
            event.remove(engine, "before_cursor_execute", executed)
        assert [a.status_code for a in answers] == [202] * 8, [a.text for a in answers]
        assert len({a.json()["conversation_id"] for a in answers}) == 1
        assert len(inserts) == 1, inserts
