"""Every database column encrypted with the keyring, and the associated data (AES-GCM AAD) that binds each
value to its row, in one place.

Writers and readers take their associated data from here (``INBOX_SECRETS.aad(inbox.id)``) and the
re-encryption sweep (``python -m switchboard_common.domain.encryption.rekey``) walks :data:`REGISTRY`, so a new
encrypted column or a changed binding cannot drift between the code that writes a value and the sweep that rewrites it.
A value copied onto another row does not decrypt there, because the row's key is part of the AAD.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import InstrumentedAttribute

from switchboard_common.domain.accounts.models import UserTotp
from switchboard_common.domain.encryption.models import SubjectKey
from switchboard_common.domain.inboxes.models import Inbox, InboxBot
from switchboard_common.domain.subscriptions.models import WebhookSubscription


@dataclass(frozen=True)
class EncryptedColumn:
    """One encrypted column: its table's primary key is what the value is bound to."""

    name: str
    column: InstrumentedAttribute[Any]
    key: InstrumentedAttribute[Any]
    _binding: Callable[[Any], bytes]

    def aad(self, key: Any) -> bytes:
        """The associated data for the row whose primary key is ``key``."""
        return self._binding(key)


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


# Channel tokens and signing secrets (switchboard_common.domain.inboxes.secrets).
INBOX_SECRETS = EncryptedColumn(
    "inboxes.secrets_encrypted", Inbox.secrets_encrypted, Inbox.id, lambda k: f"inbox:{k}".encode()
)
# Bot (Dialogflow) OAuth client credentials and refresh token (switchboard_common.domain.inboxes.bot_config).
INBOX_BOT_CREDENTIALS = EncryptedColumn(
    "inbox_bots.secrets_encrypted", InboxBot.secrets_encrypted, InboxBot.inbox_id, lambda k: f"inbox-bot:{k}".encode()
)
# Account webhook signing secrets.
WEBHOOK_SECRETS = EncryptedColumn(
    "webhook_subscriptions.secret_encrypted",
    WebhookSubscription.secret_encrypted,
    WebhookSubscription.id,
    lambda k: f"webhook:{k}".encode(),
)
# Users' TOTP secrets.
TOTP_SECRETS = EncryptedColumn(
    "user_totp.secret_encrypted", UserTotp.secret_encrypted, UserTotp.user_id, lambda k: b"totp:" + _uuid(k).bytes
)
# Per-subject data keys of crypto-shredding (switchboard_common.domain.encryption.shredding), bound to the subject ref.
SUBJECT_KEYS = EncryptedColumn(
    "subject_keys.key_encrypted", SubjectKey.key_encrypted, SubjectKey.ref, lambda k: str(k).encode()
)

REGISTRY: tuple[EncryptedColumn, ...] = (
    INBOX_SECRETS,
    INBOX_BOT_CREDENTIALS,
    WEBHOOK_SECRETS,
    TOTP_SECRETS,
    SUBJECT_KEYS,
)


def by_name(name: str) -> EncryptedColumn:
    for column in REGISTRY:
        if column.name == name:
            return column
    raise KeyError(name)
