"""The Redis client and the key names every service shares."""

from __future__ import annotations

import uuid

from redis.asyncio import Redis

from switchboard_common.infra.settings import CommonSettings

SOCKET_TIMEOUT_SECONDS = 30.0


def create_redis(settings: CommonSettings, *, max_connections: int = 500) -> Redis:
    return Redis.from_url(
        settings.redis_url,
        decode_responses=True,
        max_connections=max_connections,
        health_check_interval=30,
        socket_connect_timeout=5,
        # Longer than the longest blocking read (sockets wait on XREAD up to 10 s): redis-py's default read
        # timeout would cut every idle agent socket after 5 s.
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
    )


class Keys:
    """Redis key names, namespaced by REDIS_NAMESPACE; tenant-owned keys carry the tenant id."""

    def __init__(self, namespace: str) -> None:
        self.ns = namespace

    def presence(self, tenant_id: uuid.UUID) -> str:
        return f"{self.ns}:presence:{tenant_id}"

    def presence_choice(self, tenant_id: uuid.UUID) -> str:
        return f"{self.ns}:presence-choice:{tenant_id}"

    def agent_connections(self, agent_id: uuid.UUID) -> str:
        return f"{self.ns}:conns:{agent_id}"

    def agent_stream(self, agent_id: uuid.UUID) -> str:
        return f"{self.ns}:stream:agent:{agent_id}"

    def contact_stream(self, contact_id: uuid.UUID) -> str:
        return f"{self.ns}:stream:contact:{contact_id}"

    def delivered(self, stream: str, dedupe_id: str) -> str:
        return f"{self.ns}:pushed:{stream}:{dedupe_id}"

    def dedupe(self, scope: str, key: str) -> str:
        return f"{self.ns}:dedupe:{scope}:{key}"

    def rate(self, scope: str, key: str) -> str:
        return f"{self.ns}:rate:{scope}:{key}"

    def revocations(self) -> str:
        """Pub/sub channel: agent credentials changed, open sockets re-check
        (``switchboard_common.domain.accounts.revocation``)."""
        return f"{self.ns}:revocations"
