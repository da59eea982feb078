"""The operations commands read the services' settings (``DATABASE_URL``, ``ENCRYPTION_KEYS``, ``DATA_DIR``,
``ATTACHMENTS_BACKEND``, ``S3_*``, ``ERASURE_LEDGER_URL``, ``BACKUP_RETENTION_DAYS``) plus the backup key,
which only they hold: the services never need it."""

from __future__ import annotations

import base64
import binascii
from functools import cached_property

from pydantic import SecretStr, field_validator
from switchboard_common.infra.settings import CommonSettings, ConfigurationError


def parse_backup_keys(value: str) -> list[tuple[str, bytes]]:
    """``id:base64(32 bytes)``, comma separated: the first encrypts new backups, every one opens old ones."""
    ring: list[tuple[str, bytes]] = []
    for item in value.split(","):
        key_id, _, material = item.strip().partition(":")
        try:
            key = base64.b64decode(material, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if not key_id or len(key) != 32:
            raise ConfigurationError("BACKUP_KEY must be id:base64(32 random bytes), comma separated")
        ring.append((key_id, key))
    return ring


class OpsSettings(CommonSettings):
    service_name: str = "ops"
    # Keys of the backup archives; never stored with them.
    backup_key: SecretStr | None = None

    @field_validator("backup_key")
    @classmethod
    def _backup_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip():
            parse_backup_keys(value.get_secret_value())
            return value
        return None

    @cached_property
    def backup_keyring(self) -> list[tuple[str, bytes]]:
        if self.backup_key is None:
            raise ConfigurationError("BACKUP_KEY is not set (id:base64(32 random bytes)); backups need it")
        return parse_backup_keys(self.backup_key.get_secret_value())
