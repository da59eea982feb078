"""TOTP (RFC 6238) with an injectable clock, and recovery codes."""

from __future__ import annotations

import hashlib
import secrets
import time

import pyotp

STEP_SECONDS = 30
ISSUER = "Switchboard"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account_label: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account_label, issuer_name=ISSUER)


def matching_step(secret: str, code: str, *, last_step: int, now: float | None = None) -> int | None:
    """The time step ``code`` belongs to (now, or one step either side for clock skew), if it is newer than
    ``last_step`` -- so each code works once. ``now`` drives the clock in tests."""
    code = code.strip().replace(" ", "")
    # isascii() too: "²" and other digits pass isdigit(), and compare_digest raises on non-ASCII str.
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    now = time.time() if now is None else now
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if step > last_step and secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


# 32 letters and digits without look-alikes (0/o, 1/l): 5 bits a character, 20 characters = 100 bits, so the
# stored SHA-256 cannot be reversed by trying every code.
RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 20


def new_recovery_codes(count: int = 10) -> list[str]:
    """Codes like ``k7m2q-x9c4a-...`` (four groups of five, for reading aloud and typing)."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        codes.append("-".join(raw[i : i + 5] for i in range(0, RECOVERY_CODE_LENGTH, 5)))
    return codes


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(code.strip().lower().encode()).hexdigest()
