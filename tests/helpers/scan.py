"""Forensic scans of every store: a full SQL dump, every Redis key and value, every Kafka record (raw and opened
with the keys that survive), and files. Tests search the text these return for a person's identifiers."""

from __future__ import annotations

import json
import re
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from switchboard_common.domain.accounts.tenancy import cross_tenant
from switchboard_common.domain.encryption.shredding import SubjectKeys
from switchboard_common.infra.crypto import Keyring
from switchboard_common.infra.db import create_sessionmaker
from switchboard_common.infra.pseudonyms import Pseudonyms
from switchboard_common.infra.settings import CommonSettings
from switchboard_devstack import LocalStack

from tests.fakes.s3 import readable


async def scan_postgres(stack: LocalStack, database_url: str, database: str | None = None) -> str:
    """The full SQL dump (of ``database``, by default the one ``database_url`` names), plus every bytea value
    decoded (pg_dump prints them as hex)."""
    if stack.postgres is not None:
        dump = stack.postgres.pg_dump(database or make_url(database_url).database or stack.database)
    else:  # an external database: SELECT every table
        engine = create_async_engine(database_url)
        parts = []
        async with engine.connect() as conn:
            tables = (await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))).all()
            for (table,) in tables:
                rows = await conn.execute(cross_tenant(text(f'SELECT t::text FROM "{table}" t')))  # noqa: S608
                parts += [r[0] for r in rows]
        await engine.dispose()
        dump = "\n".join(parts)
    decoded = [bytes.fromhex(h).decode("utf-8", "replace") for h in re.findall(r"\\x([0-9a-f]+)", dump)]
    return dump + "\n".join(decoded)


async def scan_redis(redis_url: str) -> str:
    redis = Redis.from_url(redis_url, decode_responses=True)
    parts: list[str] = []
    async for key in redis.scan_iter(count=1000):
        parts.append(key)
        kind = await redis.type(key)
        if kind == "string":
            parts.append(str(await redis.get(key)))
        elif kind == "hash":
            parts.append(json.dumps(await redis.hgetall(key)))
        elif kind == "stream":
            parts.append(json.dumps(await redis.xrange(key)))
        elif kind == "set":
            parts.append(json.dumps(sorted(await redis.smembers(key))))
        elif kind == "zset":
            parts.append(json.dumps(await redis.zrange(key, 0, -1)))
        elif kind == "list":
            parts.append(json.dumps(await redis.lrange(key, 0, -1)))
    await redis.aclose()
    return "\n".join(parts)


async def scan_kafka(settings: CommonSettings, database_url: str) -> str:
    """Every record of the topics of ``settings``' Kafka namespace, raw and opened with every key that survives
    in the PostgreSQL ``database_url`` names."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    topics = [t for t in await admin.list_topics() if t.startswith(settings.kafka_namespace + ".")]
    await admin.close()
    engine = create_async_engine(database_url)
    keys = SubjectKeys(
        create_sessionmaker(engine),
        Keyring(settings.encryption_keyring),
        pseudonyms=Pseudonyms.from_settings(settings),
        cache_seconds=0,
    )
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    parts: list[str] = []
    try:
        idle = 0
        while idle < 3:
            batch = await consumer.getmany(timeout_ms=500)
            idle = 0 if batch else idle + 1
            for records in batch.values():
                for record in records:
                    raw = record.value or b""
                    parts.append((record.key or b"").decode("utf-8", "replace"))
                    parts.append(raw.decode("utf-8", "replace"))
                    parts.append((await keys.open(raw)).decode("utf-8", "replace"))
                    parts += [v.decode("utf-8", "replace") for _, v in record.headers or []]
    finally:
        await consumer.stop()
        await engine.dispose()
    return "\n".join(parts)


def scan_directory(root: Path) -> str:
    parts = []
    for path in root.rglob("*"):
        parts.append(str(path))
        if path.is_file():
            parts.append(readable(path.read_bytes()))
    return "\n".join(parts)
