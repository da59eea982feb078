"""A per-account revision of the account's webhook subscriptions, kept in Redis.

The connectors cache each account's subscriptions (one query per event would be wasteful); whoever changes
them (the gateway's webhook API, the delivery worker disabling one) bumps the revision after committing, and
the cache re-reads when the revision moved, so a new, changed or removed subscription takes effect at once.
"""

from __future__ import annotations

import uuid

from switchboard_common.infra.cache import Keys, TextRedis


def revision_key(keys: Keys, account_id: uuid.UUID) -> str:
    return keys.webhook_revision(account_id)


async def bump_revision(redis: TextRedis, keys: Keys, account_id: uuid.UUID) -> None:
    await redis.incr(revision_key(keys, account_id))


async def current_revision(redis: TextRedis, keys: Keys, account_id: uuid.UUID) -> str | None:
    value = await redis.get(revision_key(keys, account_id))
    return None if value is None else str(value)
