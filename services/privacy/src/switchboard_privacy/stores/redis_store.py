"""Redis: every key of the namespace is scanned (presence, caches, widget sessions, queues, streams, dedupe
markers), so new key kinds are covered without a list. A key named after the subject is deleted; inside
shared keys (agent streams, hashes, sets) only the entries that mention the subject are removed."""

from __future__ import annotations

import re

from redis.asyncio import Redis

from switchboard_privacy.stores.subject import Subject

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class _Matcher:
    def __init__(self, subject: Subject) -> None:
        self.uuids = subject.uuid_needles()
        self.strings = subject.string_needles()

    def __call__(self, value: str | None) -> bool:
        if not value:
            return False
        if self.uuids and not self.uuids.isdisjoint(UUID_RE.findall(value)):
            return True
        return any(needle in value for needle in self.strings)


async def erase(redis: Redis, namespace: str, subject: Subject) -> dict[str, int]:
    hits = _Matcher(subject)
    counts = {"keys": 0, "entries": 0}
    async for key in redis.scan_iter(match=f"{namespace}:*", count=1000):
        if hits(key):
            counts["keys"] += int(await redis.delete(key))
            continue
        kind = await redis.type(key)
        if kind == "string":
            if hits(await redis.get(key)):
                counts["keys"] += int(await redis.delete(key))
        elif kind == "hash":
            fields = [f for f, v in (await redis.hgetall(key)).items() if hits(f) or hits(v)]
            if fields:
                counts["entries"] += int(await redis.hdel(key, *fields))
        elif kind == "stream":
            ids = [
                entry_id
                for entry_id, entry in await redis.xrange(key)
                if any(hits(k) or hits(v) for k, v in entry.items())
            ]
            if ids:
                counts["entries"] += int(await redis.xdel(key, *ids))
        elif kind == "set":
            members = [m for m in await redis.smembers(key) if hits(m)]
            if members:
                counts["entries"] += int(await redis.srem(key, *members))
        elif kind == "zset":
            members = [m for m in await redis.zrange(key, 0, -1) if hits(m)]
            if members:
                counts["entries"] += int(await redis.zrem(key, *members))
        elif kind == "list":
            for item in {i for i in await redis.lrange(key, 0, -1) if hits(i)}:
                counts["entries"] += int(await redis.lrem(key, 0, item))
    return counts


async def export(redis: Redis, namespace: str, subject: Subject) -> list[str]:
    """Names of keys about the subject (their content is in the PostgreSQL export: Redis holds copies)."""
    hits = _Matcher(subject)
    return [key async for key in redis.scan_iter(match=f"{namespace}:*", count=1000) if hits(key)]
