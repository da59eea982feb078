"""HMAC request signing shared by the API channel (both directions) and account webhooks.

Header ``X-Switchboard-Timestamp`` (unix seconds) and ``X-Switchboard-Signature: sha256=<hex>`` where the
HMAC-SHA256 covers ``"{timestamp}.{raw body}"`` with the shared secret.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Switchboard-Timestamp"
SIGNATURE_HEADER = "X-Switchboard-Signature"
REPLAY_WINDOW_SECONDS = 300


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    return {
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        "Content-Type": "application/json",
    }


def timestamp_fresh(timestamp: str | None, now: float | None = None, window: int = REPLAY_WINDOW_SECONDS) -> bool:
    # isascii() too: "²" passes isdigit() but int() refuses it.
    if not timestamp or not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return False
    return abs((now if now is not None else time.time()) - int(timestamp)) <= window


def digests_equal(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a digest we computed with one a client sent. ``given`` may hold any
    character (Starlette decodes headers as Latin-1), and ``hmac.compare_digest`` raises on non-ASCII str:
    compared as bytes, a stray character is a mismatch (401), never an exception (500)."""
    if not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def verify(secrets: list[str], timestamp: str, body: bytes, given: str | None) -> bool:
    """Constant-time check against each currently valid secret (rotation keeps the old one briefly)."""
    return any(digests_equal(signature(secret, timestamp, body), given) for secret in secrets)
