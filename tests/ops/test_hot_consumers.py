"""Which consumers poll the broker every KAFKA_FETCH_MAX_WAIT_MS (hot) and which a few times a second
(background): every hot consumer costs a fetch request every 40 ms while idle and a fetch per handful of
records under load, on the broker and in the process, so only the agent-facing path is hot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from switchboard_common.domain.encryption.shredding import event_codec
from switchboard_common.infra.bus import EventBus, EventConsumer, GroupMember, SharedConsumerGroup
from switchboard_common.infra.cache import Keys, create_redis
from switchboard_common.infra.crypto import Keyring
from switchboard_common.infra.db import create_engine, create_sessionmaker
from switchboard_common.infra.directory import Directory
from switchboard_common.infra.pseudonyms import Pseudonyms
from switchboard_common.infra.realtime import StreamPublisher
from switchboard_common.infra.runtime import Resources
from switchboard_common.infra.service import BackgroundWorkers
from switchboard_common.infra.settings import CommonSettings
from switchboard_connectors.app import background_workers as connectors_workers
from switchboard_connectors.settings import ConnectorSettings
from switchboard_gateway.app import background_workers as gateway_workers
from switchboard_gateway.settings import GatewaySettings
from switchboard_privacy.app import background_workers as privacy_workers
from switchboard_privacy.settings import PrivacySettings
from switchboard_router.app import background_workers as router_workers
from switchboard_router.feed import RoutingFeed
from switchboard_router.settings import RouterSettings

# Groups on the way from a customer's message to the agent's socket and back to the customer's widget (the
# router's feed and writer are consumers of their own, always hot).
HOT_GROUPS = {"gateway-timeline", "connectors-ingest", "connectors-outbound", "connectors-bot"}

SERVICES: list[tuple[type[CommonSettings], Callable[[Resources], BackgroundWorkers]]] = [
    (GatewaySettings, gateway_workers),
    (ConnectorSettings, connectors_workers),
    (RouterSettings, router_workers),
    (PrivacySettings, privacy_workers),
]


async def _unopened(settings: CommonSettings) -> Resources:
    """Resources that connect to nothing until used: enough to build each service's workers."""
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    redis = create_redis(settings)
    keyring = Keyring(settings.encryption_keyring)
    keys = Keys(settings.redis_namespace)
    return Resources(
        settings=settings,
        engine=engine,
        sessionmaker=sessionmaker,
        redis=redis,
        bus=EventBus(settings, event_codec(sessionmaker, keyring, settings)),
        keys=keys,
        streams=StreamPublisher(redis, keys),
        keyring=keyring,
        attachments=None,  # type: ignore[arg-type]  # no worker touches attachments while being built
        pseudonyms=Pseudonyms.from_settings(settings),
        directory=Directory(settings),
    )


@pytest.fixture
async def consumers() -> AsyncIterator[list[EventConsumer]]:
    found: list[EventConsumer] = []
    opened: list[Resources] = []
    for settings_class, workers in SERVICES:
        settings = settings_class(environment="test", kafka_namespace="hot", redis_namespace="hot")
        resources = await _unopened(settings)
        opened.append(resources)
        for worker in workers(resources).workers:
            # A listener may wrap its consumer (privacy's ConfirmationListener).
            inner = worker if isinstance(worker, EventConsumer) else getattr(worker, "_consumer", None)
            if isinstance(inner, EventConsumer):
                found.append(inner)
    yield found
    for resources in opened:
        await resources.redis.aclose()
        await resources.engine.dispose()


async def test_only_the_agent_facing_consumers_poll_hot(consumers: list[EventConsumer]) -> None:
    settings = consumers[0].settings
    hot = {c.group for c in consumers if c.poll_interval == 0}
    assert hot == {settings.consumer_group(g) for g in HOT_GROUPS}
    for consumer in consumers:
        if consumer.poll_interval == 0:
            assert consumer.fetch_max_wait_ms == settings.kafka_fetch_max_wait_ms
        else:
            assert consumer.fetch_max_wait_ms == settings.kafka_background_fetch_max_wait_ms


async def test_sla_and_platform_replies_poll_in_the_background(consumers: list[EventConsumer]) -> None:
    groups = {c.group: c for c in consumers}
    for name in ("router-sla", "connectors-slack-outbound", "connectors-messenger-outbound"):
        assert groups[consumers[0].settings.consumer_group(name)].poll_interval > 0, name


async def test_each_process_reads_the_conversations_topic_in_one_group() -> None:
    """As create_service_app runs them (BackgroundWorkers.sharing_groups): the consumers of `conversations` in a
    process read it as one group (privacy's confirmations are its only one)."""
    names = {GatewaySettings: "gateway", ConnectorSettings: "connectors", RouterSettings: "router"}
    names[PrivacySettings] = "privacy"
    expected: dict[tuple[str, str], set[str]] = {
        ("gateway", "all"): {"gateway-conversations"},
        ("connectors", "all"): {"connectors-ingest-outbound-conversations"},
        ("connectors", "ingest"): {"connectors-ingest-conversations"},
        ("connectors", "outbound"): {"connectors-outbound-conversations"},
        ("router", "all"): {"router-conversations"},  # the feed (forwarding undecoded) and the SLA clocks
        ("privacy", "all"): {"privacy-confirmations"},  # its only consumer of the topic
    }
    for settings_class, workers in SERVICES:
        settings = settings_class(environment="test", kafka_namespace="hot", redis_namespace="hot")
        resources = await _unopened(settings)
        service = names[settings_class]
        try:
            for (name, role), groups in expected.items():
                if name != service:
                    continue
                running = workers(resources).select([role]).sharing_groups(service)
                conversations = set()
                for worker in running.workers:
                    # A listener may wrap its consumer (privacy's ConfirmationListener).
                    inner = worker if isinstance(worker, GroupMember) else getattr(worker, "_consumer", None)
                    readers = isinstance(inner, EventConsumer | SharedConsumerGroup | RoutingFeed)
                    if readers and settings.topic("conversations") in inner.topics:  # type: ignore[union-attr]
                        conversations.add(inner.group)  # type: ignore[union-attr]
                assert conversations == {settings.consumer_group(g) for g in groups}, (service, role)
        finally:
            await resources.redis.aclose()
            await resources.engine.dispose()
