"""Keyed pseudonyms: HMAC-SHA256 with the installation's pseudonym key, for every id derived from something
personal (a channel identity, a spam-filter word) that others could otherwise recompute.

An unsalted SHA-256 of ``account:channel:+15551234567`` or of a surname is reversed by trying every phone
number or every name; with a key that lives only in the services' environment (``PSEUDONYM_KEY``, else derived
from ``SECRET_KEY``), a database dump, a Kafka copy or a log holding the digest reveals nothing, and once the
rows linking a digest to a person are erased, the digest is just noise.
"""

from __future__ import annotations

import hashlib
import hmac

from switchboard_common.infra.settings import CommonSettings

_DERIVATION_LABEL = b"switchboard pseudonym key v1"


def pseudonym_key(settings: CommonSettings) -> bytes:
    """``PSEUDONYM_KEY`` (base64, 32 bytes) when set; else derived from ``SECRET_KEY`` (domain-separated)."""
    if settings.pseudonym_key is not None:
        return settings.pseudonym_key_bytes
    return hmac.new(settings.secret_key.encode(), _DERIVATION_LABEL, hashlib.sha256).digest()


class Pseudonyms:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a pseudonym key needs at least 16 bytes")
        self._key = key

    @classmethod
    def from_settings(cls, settings: CommonSettings) -> Pseudonyms:
        return cls(pseudonym_key(settings))

    def digest(self, purpose: str, *parts: str, hex_chars: int = 64) -> str:
        """The keyed digest of ``parts`` for one ``purpose`` (digests of different purposes never match)."""
        message = "\x1f".join((purpose, *parts)).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:hex_chars]
