"""One lifecycle for every Kafka consumer-group member (``switchboard_common.infra.bus.GroupMember``): the shared
EventConsumer and the router's feed and writer connect, retry an absent broker, and stop at once through the same
code, each saying only how it opens its consumer and what one poll does."""

from __future__ import annotations

import asyncio
import socket
import time
from types import SimpleNamespace
from typing import Any

from switchboard_common.infra.bus import EventConsumer, GroupMember
from switchboard_router.feed import RoutingFeed
from switchboard_router.settings import RouterSettings
from switchboard_router.writer import SESSION_TIMEOUT_MS, RoutingWriter


def _absent_broker() -> str:
    """An address where nothing listens (a port taken and given back at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def _members() -> list[GroupMember]:
    settings = RouterSettings(
        environment="test",
        database_url="postgresql+asyncpg://switchboard@127.0.0.1:1/switchboard",
        redis_url="redis://127.0.0.1:1/0",
        kafka_bootstrap_servers=_absent_broker(),
        kafka_namespace="group-member-test",
    )
    resources: Any = SimpleNamespace(settings=settings)  # what the feed and the writer read before connecting
    bus: Any = None  # never reached: no record arrives
    consumer = EventConsumer(settings, group="lifecycle", topics=["conversations"], handler=_ignore, bus=bus)
    return [consumer, RoutingFeed(resources), RoutingWriter(resources, batch_limit=123)]


async def _ignore(_event: Any, _record: Any = None) -> None:
    return None


def test_the_feed_and_the_writer_have_no_lifecycle_of_their_own() -> None:
    for cls in (EventConsumer, RoutingFeed, RoutingWriter):
        for name in ("_connect", "_run", "_finish_task", "_leave_group", "ready"):
            assert getattr(cls, name) is getattr(GroupMember, name), (cls.__name__, name)


async def test_each_member_opens_its_consumer_as_it_says() -> None:
    consumer_member, feed, writer = _members()
    for member, topics in (
        (consumer_member, {"group-member-test.conversations"}),
        (feed, {feed.source}),
        (writer, {writer.topic}),
    ):
        consumer = member._make_consumer()
        try:
            assert consumer._group_id == member.group
            assert consumer.subscription() == topics
            assert consumer._enable_auto_commit is False
        finally:
            await consumer.stop()
    # The writer keeps its own session and batch size (its fencing relies on the session timeout).
    consumer = writer._make_consumer()
    try:
        assert consumer._session_timeout_ms == SESSION_TIMEOUT_MS
        assert consumer._max_poll_records == 123
    finally:
        await consumer.stop()


async def test_every_member_retries_an_absent_broker_and_stops_at_once() -> None:
    members = _members()
    for member in members:
        await member.start()
    await asyncio.sleep(2.5)  # at least two connection attempts each
    for member in members:
        assert not member.started.is_set() and not member.ready
    started = time.monotonic()
    await asyncio.gather(*(member.stop() for member in members))
    assert time.monotonic() - started < 10
    for member in members:
        assert member._task is not None and member._task.done() and member._consumer is None
