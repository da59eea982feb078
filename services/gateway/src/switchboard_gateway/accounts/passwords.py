"""Password hashing with argon2id, off the event loop.

argon2 is deliberately slow (tens of milliseconds of CPU and 64 MiB per hash). Run on the event loop, a burst
of logins would stall every socket and request of the replica; here each hash and verification runs in a
small pool of worker threads (argon2-cffi releases the GIL while it works), bounded by the CPUs, so a login
flood queues in the pool instead of on the loop, and memory stays bounded by the pool size."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash("switchboard-timing-equaliser")
# One worker per CPU (at most 4): more would only share the same cores and multiply the 64 MiB per hash.
WORKERS = max(1, min(4, os.cpu_count() or 1))
_pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="argon2")


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_pool, _hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; a missing hash (unknown user) costs the same time and is False."""
    return await asyncio.get_running_loop().run_in_executor(_pool, _verify, password_hash, password)
