"""An account webhook's signing secret, encrypted with the keyring and bound to its subscription row."""

from __future__ import annotations

from switchboard_common.domain.encryption.columns import WEBHOOK_SECRETS


def subscription_secret_aad(subscription_id: object) -> bytes:
    """Binds an account webhook's encrypted secret to its row."""
    return WEBHOOK_SECRETS.aad(subscription_id)
