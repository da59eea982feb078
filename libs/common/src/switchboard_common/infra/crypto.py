"""Secrets at rest: AES-256-GCM with a keyring, so keys rotate without downtime.

A ciphertext is ``key_id || 0x00 || nonce(12) || ciphertext+tag``; the first key of the ring encrypts and
any key of the ring decrypts. ``needs_rotation`` tells a re-encryption sweep which values to rewrite.
"""

from __future__ import annotations

import json
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class DecryptionError(ValueError):
    """A value that no key of the ring opens (never says why: that would help an attacker)."""


class Keyring:
    def __init__(self, keys: list[tuple[str, bytes]]) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        self._keys = dict(keys)
        self.primary_id, primary = keys[0]
        self._primary = AESGCM(primary)

    def encrypt(self, plaintext: bytes, associated_data: bytes | None = None) -> bytes:
        nonce = os.urandom(12)
        return self.primary_id.encode() + b"\x00" + nonce + self._primary.encrypt(nonce, plaintext, associated_data)

    def decrypt(self, blob: bytes, associated_data: bytes | None = None) -> bytes:
        key_id, sep, rest = blob.partition(b"\x00")
        key = self._keys.get(key_id.decode(errors="replace"))
        if not sep or key is None or len(rest) < 13:
            raise DecryptionError("cannot decrypt")
        try:
            return AESGCM(key).decrypt(rest[:12], rest[12:], associated_data)
        except Exception as exc:
            raise DecryptionError("cannot decrypt") from exc

    def needs_rotation(self, blob: bytes) -> bool:
        return blob.partition(b"\x00")[0].decode(errors="replace") != self.primary_id

    def encrypt_json(self, value: dict[str, Any], associated_data: bytes | None = None) -> bytes:
        return self.encrypt(json.dumps(value, separators=(",", ":")).encode(), associated_data)

    def decrypt_json(self, blob: bytes, associated_data: bytes | None = None) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.decrypt(blob, associated_data))
        return result
