"""The backup archive: an encrypted, authenticated stream of named members (a manifest, the PostgreSQL dump,
attachment files).

Layout: ``MAGIC``, a 4-byte header length, the header (JSON: format, version, key id, salt, creation time,
region; no secret and no personal data), then frames. Each frame is a 4-byte length and one AES-256-GCM
ciphertext of at most 1 MiB of plaintext (a kind byte: ``M`` member start, ``D`` data, ``Z`` end; then the
payload). The archive's key is derived from the backup key named in the header and a random salt
(HKDF-SHA256), so no two archives share a key; nonces count frames. Each frame's associated data binds the
header, the frame's position and whether it is the last (the STREAM construction), so a changed header, a
reordered, dropped or altered frame, or a truncated archive fails to open. The backup key itself is never
written.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"SWITCHBOARD-BACKUP\x00"
FORMAT = "switchboard.backup"
VERSION = 1
FRAME_PLAINTEXT_BYTES = 1 << 20
_INFO = b"switchboard backup archive v1"
_MAX_HEADER = 64 * 1024
_MAX_FRAME = FRAME_PLAINTEXT_BYTES + 1 + 16


class ArchiveError(Exception):
    """An archive that is not ours, is damaged or tampered with, or needs a key we lack (never says more)."""


def archive_key(backup_key: bytes, salt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_INFO).derive(backup_key)


def _associated(header_digest: bytes, counter: int, final: bool) -> bytes:
    return header_digest + counter.to_bytes(8, "big") + (b"\x01" if final else b"\x00")


class ArchiveWriter:
    def __init__(self, out: IO[bytes], *, key_id: str, backup_key: bytes, meta: dict[str, Any]) -> None:
        salt = os.urandom(32)
        header = {
            **meta,
            "format": FORMAT,
            "version": VERSION,
            "cipher": "AES-256-GCM",
            "kdf": "HKDF-SHA256",
            "key_id": key_id,
            "salt": base64.b64encode(salt).decode(),
        }
        raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
        out.write(MAGIC + len(raw).to_bytes(4, "big") + raw)
        self._out = out
        self._aead = AESGCM(archive_key(backup_key, salt))
        self._digest = hashlib.sha256(raw).digest()
        self._counter = 0
        self._finished = False
        self.bytes_in = 0

    def _frame(self, kind: bytes, payload: bytes, *, final: bool = False) -> None:
        assert not self._finished, "archive already finished"
        nonce = self._counter.to_bytes(12, "big")
        sealed = self._aead.encrypt(nonce, kind + payload, _associated(self._digest, self._counter, final))
        self._out.write(len(sealed).to_bytes(4, "big") + sealed)
        self._counter += 1

    def begin(self, name: str, **info: Any) -> None:
        self._frame(b"M", json.dumps({"name": name, **info}).encode())

    def write(self, data: bytes) -> None:
        self.bytes_in += len(data)
        for start in range(0, len(data), FRAME_PLAINTEXT_BYTES):
            self._frame(b"D", data[start : start + FRAME_PLAINTEXT_BYTES])

    def finish(self) -> None:
        self._frame(b"Z", b"", final=True)
        self._finished = True


class ArchiveReader:
    """Opens an archive file with the backup keyring. ``events()`` yields ``("member", info)`` and
    ``("data", bytes)`` in order, each frame verified before it is yielded; the end is verified last, so a
    consumer must treat what it read as untrusted until the iteration completes."""

    def __init__(self, path: Path, keyring: list[tuple[str, bytes]]) -> None:
        self.path = path
        with path.open("rb") as handle:
            magic = handle.read(len(MAGIC))
            if magic != MAGIC:
                raise ArchiveError("not a Switchboard backup archive")
            length = int.from_bytes(handle.read(4), "big")
            if not 0 < length <= _MAX_HEADER:
                raise ArchiveError("damaged archive header")
            raw = handle.read(length)
            self._frames_at = handle.tell()
        try:
            self.header: dict[str, Any] = json.loads(raw)
            salt = base64.b64decode(self.header["salt"])
            key_id = str(self.header["key_id"])
        except (ValueError, KeyError, TypeError):
            raise ArchiveError("damaged archive header") from None
        if self.header.get("format") != FORMAT or self.header.get("version") != VERSION:
            raise ArchiveError("unknown archive format or version")
        keys = dict(keyring)
        if key_id not in keys:
            raise ArchiveError(f"BACKUP_KEY has no key {key_id!r}, which this archive was made with")
        self._aead = AESGCM(archive_key(keys[key_id], salt))
        self._digest = hashlib.sha256(raw).digest()

    def _frames(self) -> Iterator[tuple[bytes, bytes]]:
        size = self.path.stat().st_size
        with self.path.open("rb") as handle:
            handle.seek(self._frames_at)
            counter = 0
            while True:
                prefix = handle.read(4)
                if len(prefix) < 4:
                    raise ArchiveError("archive is truncated")
                length = int.from_bytes(prefix, "big")
                if not 17 <= length <= _MAX_FRAME:
                    raise ArchiveError("damaged archive")
                sealed = handle.read(length)
                if len(sealed) < length:
                    raise ArchiveError("archive is truncated")
                final = handle.tell() == size
                try:
                    plain = self._aead.decrypt(
                        counter.to_bytes(12, "big"), sealed, _associated(self._digest, counter, final)
                    )
                except Exception:
                    raise ArchiveError("archive does not open: wrong key, damaged or tampered with") from None
                kind, payload = plain[:1], plain[1:]
                if (kind == b"Z") != final:
                    raise ArchiveError("damaged archive")
                yield kind, payload
                counter += 1
                if final:
                    return

    def events(self) -> Iterator[tuple[str, Any]]:
        for kind, payload in self._frames():
            if kind == b"M":
                yield "member", json.loads(payload)
            elif kind == b"D":
                yield "data", payload
            elif kind != b"Z":
                raise ArchiveError("damaged archive")

    def verify(self) -> dict[str, int]:
        """Reads the whole archive once: member name -> bytes. Raises unless every frame and the end check."""
        sizes: dict[str, int] = {}
        current: str | None = None
        for kind, value in self.events():
            if kind == "member":
                current = str(value["name"])
                sizes[current] = 0
            elif current is None:
                raise ArchiveError("damaged archive")
            else:
                sizes[current] += len(value)
        return sizes

    def member(self, name: str) -> bytes:
        """One (small) member's bytes, e.g. the manifest."""
        chunks: list[bytes] = []
        found = reading = False
        for kind, value in self.events():
            if kind == "member":
                if reading:
                    break
                reading = found = value["name"] == name
            elif reading:
                chunks.append(value)
        if not found:
            raise ArchiveError(f"archive has no {name}")
        return b"".join(chunks)
