"""Kill -9 of the Kafka broker while messages flow, on a broker whose log survives it.

tests/ops/test_faults.py runs tansu on its memory storage, which a restart empties, so there the broker is
restarted only after consumers caught up. Here tansu keeps its log in S3 (moto's server, a process of its
own), as a production broker keeps it on replicated disks: records, topics and committed offsets outlive
the kill. The same cluster, clients and exact-once count as in test_faults; consumers fetch every 500 ms (the
production overlay's wait) and the clients send more slowly, because every broker read is an HTTP request
to moto.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from switchboard_devstack import LocalStack

from tests.fakes.s3 import S3ServerProcess
from tests.helpers.faults import ClusterParts, World, fault_cluster, in_background, settle_and_count


@pytest.fixture(scope="module")
def cluster_sync(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterParts]:
    log_dir = tmp_path_factory.mktemp("faults-broker")
    s3 = S3ServerProcess(log_dir / "servers" / "s3")
    s3.start()
    try:
        s3.create_bucket("tansu")
        stack = LocalStack(
            log_dir / "servers",
            durable=True,
            database="switchboard_faults",
            env={},
            kafka_storage_url="s3://tansu/",
            kafka_env=s3.tansu_env(),
        )
        with fault_cluster(
            stack,
            log_dir,
            KAFKA_TOPIC_PARTITIONS="2",
            KAFKA_FETCH_MAX_WAIT_MS="500",
            KAFKA_BACKGROUND_FETCH_MAX_WAIT_MS="5000",
        ) as parts:
            yield parts
    finally:
        s3.stop()


async def test_kill_9_of_the_broker_while_messages_flow_loses_and_duplicates_nothing(world: World) -> None:
    kafka = world.cluster.stack.kafka
    assert kafka is not None
    traffic = await in_background(world.traffic.run(8, interval=0.6))
    await asyncio.sleep(2.0)  # with 500 ms fetches, messages are now at every hop
    await asyncio.to_thread(kafka.kill)
    await asyncio.sleep(1.5)  # clients see a dead broker: webhooks answer 503 and are retried
    await asyncio.to_thread(kafka.start)
    await traffic
    await settle_and_count(world)
