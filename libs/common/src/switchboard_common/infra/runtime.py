"""The resources a service's lifespan owns: database engine, Redis client, Kafka producer, keyring."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from switchboard_common.infra.attachments import AttachmentStore, create_attachment_store
from switchboard_common.infra.bus import EventBus, EventCodec, ensure_topics
from switchboard_common.infra.cache import Keys, TextRedis, create_redis
from switchboard_common.infra.crypto import Keyring
from switchboard_common.infra.db import RESTORE_GATE_TABLE, create_engine, create_sessionmaker
from switchboard_common.infra.directory import Directory
from switchboard_common.infra.http import ReadinessCheck
from switchboard_common.infra.pseudonyms import Pseudonyms
from switchboard_common.infra.realtime import StreamPublisher
from switchboard_common.infra.settings import CommonSettings

# Builds the bus's event codec from the database and keyring (the domain's, e.g.
# switchboard_common.domain.encryption.shredding.event_codec): infrastructure knows no event type.
EventCodecFactory = Callable[[async_sessionmaker[AsyncSession], Keyring, CommonSettings], EventCodec]


@dataclass
class Resources:
    settings: CommonSettings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: TextRedis
    bus: EventBus
    keys: Keys
    streams: StreamPublisher
    keyring: Keyring
    # Where attachments and access exports live (ATTACHMENTS_BACKEND); every reader and writer uses it.
    attachments: AttachmentStore
    # Keyed digests for ids derived from personal data (switchboard_common.infra.pseudonyms).
    pseudonyms: Pseudonyms
    # The global directory of a multi-region installation (a no-op with one region).
    directory: Directory
    _closed: bool = field(default=False, repr=False)

    @classmethod
    async def open(
        cls,
        settings: CommonSettings,
        event_codec: EventCodecFactory,
        *,
        create_topics: bool = True,
        directory: Directory | None = None,
    ) -> Resources:
        engine = create_engine(settings)
        redis = create_redis(settings)
        sessionmaker = create_sessionmaker(engine)
        keyring = Keyring(settings.encryption_keyring)
        bus = EventBus(settings, event_codec(sessionmaker, keyring, settings))
        try:
            if create_topics:
                await ensure_topics(settings)
            await bus.start()
        except BaseException:
            await redis.aclose()
            await engine.dispose()
            raise
        return cls(
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            redis=redis,
            bus=bus,
            keys=Keys(settings.redis_namespace),
            streams=StreamPublisher(redis, Keys(settings.redis_namespace)),
            keyring=keyring,
            attachments=create_attachment_store(settings),
            pseudonyms=Pseudonyms.from_settings(settings),
            directory=directory or Directory(settings),
        )

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            await self.bus.stop()
        with contextlib.suppress(Exception):
            await self.redis.aclose()
        with contextlib.suppress(Exception):
            await self.attachments.close()
        with contextlib.suppress(Exception):
            await self.directory.close()
        await self.engine.dispose()

    def readiness_checks(self) -> dict[str, ReadinessCheck]:
        async def postgres() -> None:
            async with self.engine.connect() as conn:
                restoring = await conn.scalar(text(f"SELECT to_regclass('{RESTORE_GATE_TABLE}') IS NOT NULL"))
            if restoring:
                raise ConnectionError("a restore is replaying the erasure ledger")

        async def redis() -> None:
            await self.redis.ping()

        async def kafka() -> None:
            if not await self.bus.producer.client.force_metadata_update():
                raise ConnectionError("kafka metadata unavailable")

        return {"postgres": postgres, "redis": redis, "kafka": kafka}
