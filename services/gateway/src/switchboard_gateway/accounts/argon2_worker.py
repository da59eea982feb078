"""What runs inside the password-hashing worker processes (:mod:`switchboard_gateway.accounts.passwords`).

Imports nothing but argon2: each worker is a fresh interpreter that loads only this module, so it starts in
a fraction of a second and holds little more memory than the hash itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

PR_SET_PDEATHSIG = 1  # prctl(2)


@dataclass(frozen=True)
class HashParameters:
    """argon2id cost: ``time_cost`` passes over ``memory_kib`` KiB in ``parallelism`` lanes. The defaults are
    OWASP's floor for argon2id (19 MiB, 2 passes, 1 lane)."""

    time_cost: int = 2
    memory_kib: int = 19 * 1024
    parallelism: int = 1

    def hasher(self) -> PasswordHasher:
        return PasswordHasher(
            time_cost=self.time_cost, memory_cost=self.memory_kib, parallelism=self.parallelism, type=Type.ID
        )


# This worker's hasher, and the hash an unknown user's password is checked against (so a login takes as long
# whether or not the e-mail exists).
_hasher: PasswordHasher | None = None
_dummy_hash = ""


def _die_with(parent_pid: int) -> None:
    """A gateway killed outright (SIGKILL, OOM) takes its workers along: they would otherwise wait forever on a
    queue whose pipe they hold themselves (Linux; elsewhere the gateway's shutdown stops them)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # it died before the line above
        os._exit(1)


def start(parameters: HashParameters, niceness: int, parent_pid: int) -> None:
    """The pool's initializer, once per worker process."""
    global _hasher, _dummy_hash
    _die_with(parent_pid)
    # Ctrl-C in a terminal reaches the whole process group: the gateway shuts its pool down itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if niceness:
        with contextlib.suppress(OSError):  # lowering one's own priority needs no privilege; never fatal
            os.nice(niceness)
    _hasher = parameters.hasher()
    _dummy_hash = _hasher.hash("switchboard-timing-equaliser")


def hash_password(password: str) -> str:
    assert _hasher is not None, "runs in a worker started by start()"
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    assert _hasher is not None, "runs in a worker started by start()"
    try:
        return _hasher.verify(password_hash or _dummy_hash, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
