"""Rate limits and login throttling in Redis, so every replica counts against the same budget.

Fixed windows (INCR + EXPIRE): cheap, and good enough for abuse limits; the answer carries ``retry_after``
seconds so the caller can answer 429 with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import NoScriptError
from switchboard_common.infra.cache import Keys, TextRedis
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.pseudonyms import Pseudonyms
from switchboard_common.infra.runtime import Resources


@dataclass(frozen=True)
class Script:
    """A Lua script run by its SHA-1 (EVALSHA: the source travels once per Redis server, not per call)."""

    source: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.source.encode(), usedforsecurity=False).hexdigest())

    async def __call__(self, redis: TextRedis, keys: list[str], args: list[Any]) -> Any:
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:  # a restarted or new server: EVAL runs it and caches it for the next EVALSHA
            return await redis.eval(self.source, len(keys), *keys, *args)


# Decrements only a counter that still exists: one whose window ended meanwhile must not come back as a
# counter without expiry.
_GIVE_BACK = """
for _, name in ipairs(KEYS) do
  if redis.call('EXISTS', name) == 1 then redis.call('DECR', name) end
end
return 0
"""

# ``hit`` and a read of another key in one command (a pipeline of four costs the client far more to build
# and parse). KEYS: the counter, the key to read (may be absent). ARGV: window seconds.
_HIT_AND_GET = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
local value = false
if KEYS[2] then value = redis.call('GET', KEYS[2]) end
return {count, ttl, value}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0
    count: int = 0


class RateLimiter:
    def __init__(self, redis: TextRedis, keys: Keys, pseudonyms: Pseudonyms) -> None:
        self.redis = redis
        self.keys = keys
        self.pseudonyms = pseudonyms

    @classmethod
    def of(cls, resources: Resources) -> RateLimiter:
        return cls(resources.redis, resources.keys, resources.pseudonyms)

    def hashed(self, value: str) -> str:
        """Keys never carry e-mails or addresses, not even as a plain hash anyone could recompute."""
        return self.pseudonyms.digest("rate", value, hex_chars=32)

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

    async def give_back(self, scope: str, key: str) -> None:
        """Undoes one :meth:`hit` (a request counted up front that turned out not to count)."""
        await GIVE_BACK(self.redis, [self.keys.rate(scope, key)], [])

    async def hit_and_get(
        self, scope: str, key: str, *, limit: int, window_seconds: int, get: str | None
    ) -> tuple[Decision, str | None]:
        """``hit``, and the value of the key ``get`` read in the same round trip (None without one)."""
        name = self.keys.rate(scope, key)
        keys = [name] if get is None else [name, get]
        count, ttl, value = await HIT_AND_GET(self.redis, keys, [window_seconds])
        found = value if value else None
        if isinstance(found, bytes):
            found = found.decode()
        if int(count) > limit:
            return Decision(False, max(int(ttl), 1), int(count)), found
        return Decision(True, count=int(count)), found

    async def reset(self, scope: str, key: str) -> None:
        await self.redis.delete(self.keys.rate(scope, key))


def too_many(decision: Decision, message: str = "too many requests, retry later") -> AppError:
    return AppError(429, "rate_limited", message, headers={"Retry-After": str(decision.retry_after)})


# One round trip, atomic: refuse when backing off or at a limit, else count the attempt *before* the password
# is verified, so a parallel burst cannot slip between a check and a later increment.
# KEYS: backoff, account counter, address counter (may be absent). ARGV: lockout, address limit, window.
_BEGIN_ATTEMPT = """
local backoff = redis.call('TTL', KEYS[1])
if backoff > 0 then return {1, backoff} end
local failures = tonumber(redis.call('GET', KEYS[2]) or '0')
if failures >= tonumber(ARGV[1]) then return {2, redis.call('TTL', KEYS[2])} end
if KEYS[3] then
  local from_address = tonumber(redis.call('GET', KEYS[3]) or '0')
  if from_address >= tonumber(ARGV[2]) then return {3, redis.call('TTL', KEYS[3])} end
  redis.call('INCR', KEYS[3])
  redis.call('EXPIRE', KEYS[3], ARGV[3], 'NX')
end
local count = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[3], 'NX')
return {0, count}
"""
# A complete login, in one round trip: the account's backoff and count go, the address gives its attempt back.
# KEYS: backoff, account counter, address counter (may be absent).
_SUCCEEDED = """
redis.call('DEL', KEYS[1], KEYS[2])
if KEYS[3] and redis.call('EXISTS', KEYS[3]) == 1 then redis.call('DECR', KEYS[3]) end
return 0
"""
GIVE_BACK, HIT_AND_GET = Script(_GIVE_BACK), Script(_HIT_AND_GET)
BEGIN_ATTEMPT, SUCCEEDED = Script(_BEGIN_ATTEMPT), Script(_SUCCEEDED)
_REFUSALS = {
    1: "too many failed logins, retry later",
    2: "too many failed logins, the account is locked for a while",
    3: "too many failed logins from this address",
}


class LoginThrottle:
    """Password attempts per account and per address: exponential backoff after a few failures, then lockout.

    Every attempt is counted atomically *before* its password is verified (:meth:`begin`), then settled:
    :meth:`succeeded` clears the account's count, :meth:`not_a_failure` takes the attempt back (the password
    was right and only the second factor is missing), and a failure stays counted (:meth:`failed` adds the
    backoff). So N parallel guesses for one account verify at most ``lockout_failures`` passwords. The first
    ``free_failures`` failures cost nothing; each later one locks the account for 2**n seconds (capped);
    ``lockout_failures`` inside the window lock it until the window ends. Locked attempts answer 429 with
    Retry-After before the password is checked. Used for logins, password changes and turning 2FA off.
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

    def _keys(self, email: str, address: str | None) -> list[str]:
        keys = self.limiter.keys
        account = self.limiter.hashed(email.lower())
        names = [keys.rate("login-backoff", account), keys.rate("login-fail", account)]
        if address:
            names.append(keys.rate("login-fail-addr", self.limiter.hashed(address)))
        return names

    async def begin(self, email: str, address: str | None) -> int:
        """Counts an attempt, or raises 429 without counting it; returns the account's count."""
        names = self._keys(email, address)
        limits = [self.lockout, self.address_failures, self.window]
        outcome, value = await BEGIN_ATTEMPT(self.limiter.redis, names, limits)
        if int(outcome) != 0:
            raise too_many(Decision(False, max(int(value), 1)), _REFUSALS[int(outcome)])
        return int(value)

    async def failed(self, email: str, count: int) -> None:
        """The attempt ``begin`` counted failed: past the free ones, back off before the next."""
        if count > self.free:
            backoff = min(2 ** (count - self.free), self.max_backoff)
            await self.limiter.redis.set(self._keys(email, None)[0], 1, ex=backoff)

    async def not_a_failure(self, email: str, address: str | None) -> None:
        """Takes back an attempt whose password was right (the second factor comes next)."""
        names = self._keys(email, address)[1:]
        await GIVE_BACK(self.limiter.redis, names, [])

    async def succeeded(self, email: str, address: str | None) -> None:
        """A complete login: the account starts afresh; the address keeps only its failures."""
        await SUCCEEDED(self.limiter.redis, self._keys(email, address), [])
