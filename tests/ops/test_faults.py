"""Fault tests: the services run as separate processes (two gateways, connectors, router) on servers of
their own (so restarting them disturbs no other test), while visitors (widget, over the gateway) and a back
end (API channel, over the connectors) keep sending messages with retries as real clients do, and one agent
stays connected through a client that reconnects to the other gateway with ``last_event_id``.

After each fault every message that got a 2xx must be stored exactly once and reach the agent exactly once.
Counted, not sampled: every accepted id is looked up in the database and in the agent's frames, and every
inbound row and every message frame is counted, so a duplicate or a stray message fails the test.

What the local broker lets us prove: tansu here keeps records in memory, so a broker restart loses its
topics, records and committed offsets. A production broker (replicated, on disk) keeps them. The broker
test therefore waits until consumers caught up, restarts the broker, re-declares the topics (as the
KafkaTopic resources do in a cluster) and proves that producers and consumer groups recover and that
traffic accepted after the restart is delivered exactly once; it cannot prove that records in flight
during a broker crash survive: tests/ops/test_faults_durable_broker.py does, on a broker that keeps its log in S3.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from redis.asyncio import Redis
from switchboard_common.infra.bus import ensure_topics
from switchboard_common.infra.settings import CommonSettings
from switchboard_devstack import LocalStack

from tests.helpers.faults import (
    ClusterParts,
    World,
    fault_cluster,
    in_background,
    metric_total,
    settle_and_count,
    wait_for_frame,
)

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def cluster_sync(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterParts]:
    log_dir = tmp_path_factory.mktemp("faults")
    stack = LocalStack(log_dir / "servers", durable=True, database="switchboard_faults", env={})
    with fault_cluster(stack, log_dir) as parts:
        yield parts


async def test_warm_up_trace_context_crosses_processes(world: World) -> None:
    """A visitor's traceparent reaches the agent's socket: gateway -> Kafka headers -> timeline consumer
    (in either gateway process) -> Redis stream -> the socket, wherever it is connected."""
    async with httpx.AsyncClient(timeout=30) as http:

        async def post(client_id: str, trace_id: str) -> str:
            response = await http.post(
                f"{world.cluster.gateways[0].url}/api/v1/widget/messages",
                json={"text": "hello", "client_message_id": client_id},
                headers={
                    "Authorization": f"Bearer {world.traffic.visitors[0]}",
                    "traceparent": f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01",
                },
            )
            assert response.status_code == 202, response.text
            world.traffic.accepted[response.json()["message_id"]] = client_id
            return str(response.json()["message_id"])

        await post("warm-up-1", uuid.uuid4().hex)
        await wait_for_frame(world.agent, lambda f: f["type"] == "conversation.assigned")
        trace_id = uuid.uuid4().hex
        message_id = await post("warm-up-2", trace_id)
    frame = await wait_for_frame(
        world.agent, lambda f: f["type"] == "message.created" and f["message"]["id"] == message_id
    )
    assert frame["trace_id"] == trace_id
    await world.traffic.run(2)
    await settle_and_count(world)


async def test_every_service_exports_the_series_operators_watch(world: World) -> None:
    cluster = world.cluster
    namespace = cluster.env["KAFKA_NAMESPACE"]
    async with httpx.AsyncClient(timeout=10) as http:
        gateway = (await http.get(f"{cluster.gateways[0].url}/metrics")).text
        connectors = (await http.get(f"{cluster.connectors.url}/metrics")).text
        router = (await http.get(f"{cluster.router.url}/metrics")).text
    assert metric_total(connectors, "switchboard_webhooks_total", channel="api", outcome="accepted") > 0
    assert metric_total(connectors, "switchboard_webhook_ack_seconds_count", channel="api") > 0
    assert metric_total(router, "switchboard_assignments_total", outcome="assigned") > 0
    assert "switchboard_queue_wait_seconds_count" in router
    for exposition, group in ((router, "router"), (connectors, "connectors-ingest"), (gateway, "gateway-timeline")):
        assert f'switchboard_kafka_consumer_lag{{group="{namespace}-{group}"' in exposition, group
        assert metric_total(exposition, "switchboard_events_handled_total", group=f"{namespace}-{group}") > 0
    assert metric_total(gateway, "switchboard_http_requests_total", service="gateway") > 0


@pytest.mark.parametrize("victim", ["connectors", "router", "gateway-a"])
async def test_kill_9_of_a_service_loses_and_duplicates_nothing(world: World, victim: str) -> None:
    cluster = world.cluster
    process = next(p for p in cluster.processes if p.name == victim)
    traffic = await in_background(world.traffic.run(4))
    await asyncio.to_thread(process.kill9)
    await asyncio.sleep(1.0)
    await asyncio.to_thread(process.restart)
    await traffic
    await settle_and_count(world)


async def test_sigterm_drains_and_agents_reconnect_to_the_other_gateway(world: World) -> None:
    cluster = world.cluster
    connected_to = cluster.gateways[(world.agent._gateway_index - 1) % 2]
    connections = world.agent.connections
    traffic = await in_background(world.traffic.run(4))
    code = await asyncio.to_thread(connected_to.terminate)
    assert code == 0, connected_to.log_tail()
    # The socket was closed with "service restart" (1012): the client reconnects elsewhere at once.
    assert 1012 in world.agent.close_codes
    await traffic
    await settle_and_count(world)
    assert world.agent.connections > connections
    await asyncio.to_thread(connected_to.restart)


async def test_postgres_restart(world: World) -> None:
    postgres = world.cluster.stack.postgres
    assert postgres is not None
    traffic = await in_background(world.traffic.run(4))
    await asyncio.to_thread(postgres.kill)
    await asyncio.sleep(1.5)
    await asyncio.to_thread(postgres.start)
    await traffic
    await settle_and_count(world)


async def test_redis_flush(world: World) -> None:
    traffic = await in_background(world.traffic.run(5))
    redis = Redis.from_url(world.cluster.env["REDIS_URL"])
    try:
        await redis.flushall()
    finally:
        await redis.aclose()
    await traffic
    await settle_and_count(world)


async def test_kafka_broker_restart_after_catch_up(world: World) -> None:
    kafka = world.cluster.stack.kafka
    assert kafka is not None
    await settle_and_count(world)  # consumers caught up: the memory broker loses nothing we count
    await asyncio.to_thread(kafka.kill)
    await asyncio.to_thread(kafka.start)
    # The KafkaTopic resources' job in a cluster; the memory broker forgot them.
    await ensure_topics(CommonSettings(**{k.lower(): v for k, v in world.cluster.env.items()}))
    await world.traffic.run(8)
    await settle_and_count(world)


async def test_process_logs_are_json_without_personal_data(world: World) -> None:
    texts = {f"message {client_id}" for client_id in world.traffic.accepted.values()}
    for process in world.cluster.processes:
        for line in process.log_text().splitlines():
            if not line.startswith("{"):
                continue  # stdlib lines from libraries (uvicorn start-up)
            record = json.loads(line)
            assert {"event", "level", "timestamp", "service"} <= set(record), line
            assert world.tenant.email not in line
            assert not any(text in line for text in texts), line
