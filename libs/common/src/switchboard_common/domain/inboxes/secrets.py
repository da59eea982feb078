"""Inbox secrets (channel tokens, signing secrets) encrypted at rest, bound to their inbox row."""

from __future__ import annotations

import uuid
from typing import Any

from switchboard_common.domain.encryption.columns import INBOX_SECRETS
from switchboard_common.infra.crypto import Keyring


def associated_data(inbox_id: uuid.UUID) -> bytes:
    # A ciphertext copied onto another inbox row does not decrypt there.
    return INBOX_SECRETS.aad(inbox_id)


def encrypt_secrets(keyring: Keyring, inbox_id: uuid.UUID, values: dict[str, Any]) -> bytes | None:
    return keyring.encrypt_json(values, associated_data(inbox_id)) if values else None


def decrypt_secrets(keyring: Keyring, inbox_id: uuid.UUID, blob: bytes | None) -> dict[str, Any]:
    return keyring.decrypt_json(blob, associated_data(inbox_id)) if blob else {}
