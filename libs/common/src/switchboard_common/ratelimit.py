"""Rate limits and login throttling in Redis, so every replica counts against the same budget.

Fixed windows (INCR + EXPIRE): cheap, and good enough for abuse limits; the answer carries ``retry_after``
seconds so the caller can answer 429 with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from redis.asyncio import Redis

from switchboard_common.cache import Keys
from switchboard_common.errors import AppError


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0
    count: int = 0


def hashed(value: str) -> str:
    """Keys never carry e-mails or addresses in clear."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class RateLimiter:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    async def hit(self, scope: str, key: str, *, limit: int, window_seconds: int) -> Decision:
        """Count one request; refuse it when the window already holds ``limit`` requests."""
        name = self.keys.rate(scope, key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window_seconds, nx=True)
            pipe.ttl(name)
            count, _, ttl = await pipe.execute()
        if int(count) > limit:
            return Decision(False, max(int(ttl), 1), int(count))
        return Decision(True, count=int(count))

    async def check(self, scope: str, key: str, *, limit: int) -> Decision:
        """Whether ``key`` is under ``limit`` without counting a request (for failure-only counters)."""
        name = self.keys.rate(scope, key)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(name)
            pipe.ttl(name)
            count, ttl = await pipe.execute()
        if count is not None and int(count) >= limit:
            return Decision(False, max(int(ttl), 1))
        return Decision(True)

    async def reset(self, scope: str, key: str) -> None:
        await self.redis.delete(self.keys.rate(scope, key))


def too_many(decision: Decision, message: str = "too many requests, retry later") -> AppError:
    return AppError(429, "rate_limited", message, headers={"Retry-After": str(decision.retry_after)})


class LoginThrottle:
    """Failed logins per account and per address: exponential backoff after a few failures, then lockout.

    The first ``free_failures`` failures cost nothing; each later one locks the account for 2**n seconds
    (capped); ``lockout_failures`` failures inside the window lock it until the window ends. A success
    clears the account's counter. Locked attempts answer 429 with Retry-After before the password is checked.
    """

    def __init__(
        self,
        limiter: RateLimiter,
        *,
        window_seconds: int = 900,
        free_failures: int = 3,
        lockout_failures: int = 10,
        max_backoff_seconds: int = 300,
        address_failures: int = 100,
    ) -> None:
        self.limiter = limiter
        self.window = window_seconds
        self.free = free_failures
        self.lockout = lockout_failures
        self.max_backoff = max_backoff_seconds
        self.address_failures = address_failures

    async def ensure_allowed(self, email: str, address: str | None) -> None:
        account_key = hashed(email.lower())
        redis = self.limiter.redis
        backoff_ttl = await redis.ttl(self.limiter.keys.rate("login-backoff", account_key))
        if backoff_ttl and backoff_ttl > 0:
            raise too_many(Decision(False, backoff_ttl), "too many failed logins, retry later")
        decision = await self.limiter.check("login-fail", account_key, limit=self.lockout)
        if not decision.allowed:
            raise too_many(decision, "too many failed logins, the account is locked for a while")
        if address:
            decision = await self.limiter.check("login-fail-addr", hashed(address), limit=self.address_failures)
            if not decision.allowed:
                raise too_many(decision, "too many failed logins from this address")

    async def record_failure(self, email: str, address: str | None) -> None:
        account_key = hashed(email.lower())
        count = (await self.limiter.hit("login-fail", account_key, limit=10**9, window_seconds=self.window)).count
        if count > self.free:
            backoff = min(2 ** (count - self.free), self.max_backoff)
            await self.limiter.redis.set(self.limiter.keys.rate("login-backoff", account_key), 1, ex=backoff)
        if address:
            await self.limiter.hit("login-fail-addr", hashed(address), limit=10**9, window_seconds=self.window)

    async def record_success(self, email: str) -> None:
        account_key = hashed(email.lower())
        await self.limiter.reset("login-fail", account_key)
        await self.limiter.reset("login-backoff", account_key)
