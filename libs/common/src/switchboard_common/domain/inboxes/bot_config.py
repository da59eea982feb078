"""An inbox's bot configuration (Dialogflow), shared by the gateway (``PUT /api/v1/inboxes/{id}/bot``) and
the connectors' bot worker. Credentials (OAuth client id and secret, refresh token) are encrypted with the
keyring, bound to the inbox, and never returned or logged."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from switchboard_common.domain.encryption.columns import INBOX_BOT_CREDENTIALS
from switchboard_common.infra.crypto import Keyring

SECRET_FIELDS = ("client_id", "client_secret", "refresh_token", "fulfillment_password")


class BotSettings(BaseModel):
    """What is stored in clear (``inbox_bots.settings``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    provider: Literal["dialogflow"] = "dialogflow"
    project_id: str = Field(min_length=6, max_length=30, pattern=r"^[a-z][a-z0-9-]+$")
    language_code: str = Field(default="en", min_length=2, max_length=12, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]+)*$")
    # Intent display names that mean "a human, please".
    handoff_intents: list[str] = Field(default_factory=list, max_length=50)
    # Below this detection confidence a turn counts as "not understood"; low_confidence_turns such turns in
    # a row hand off (0 disables the threshold).
    confidence_threshold: float = Field(default=0.0, ge=0.0, le=1.0)
    low_confidence_turns: int = Field(default=2, ge=1, le=10)
    # A custom payload key that asks for a live agent (ES has no handoff message type): {"handoff": true}.
    handoff_payload_key: str = Field(default="handoff", min_length=1, max_length=64)
    # Fulfillment webhook: the tag (CX) or action (ES) that hands off, and the one that answers with status.
    handoff_tag: str = Field(default="handoff", min_length=1, max_length=64)
    status_tag: str = Field(default="conversation_status", min_length=1, max_length=64)
    # Routing hints passed to the router on handoff ({"skills": [...], "language": "fr", ...}).
    handoff_routing: dict[str, Any] = Field(default_factory=dict)
    # Set by the gateway, never by the client: the inbox has its own fulfillment password, so fulfillment calls
    # for its conversations are accepted only at /webhooks/dialogflow/{inbox_id} with it.
    fulfillment_credentials: bool = False


class BotConfigIn(BotSettings):
    client_id: str = Field(min_length=1, max_length=255)
    client_secret: str = Field(min_length=1, max_length=255)
    refresh_token: str = Field(min_length=1, max_length=1024)
    # Basic-auth password Dialogflow sends to /webhooks/dialogflow/{inbox_id} (user: the inbox id). Unset, that
    # URL takes the installation's DIALOGFLOW_WEBHOOK_USER/PASSWORD and the shared URL serves the inbox too.
    fulfillment_password: str | None = Field(default=None, min_length=16, max_length=255)


def associated_data(inbox_id: uuid.UUID) -> bytes:
    return INBOX_BOT_CREDENTIALS.aad(inbox_id)


def encrypt_credentials(keyring: Keyring, inbox_id: uuid.UUID, config: BotConfigIn) -> bytes:
    secrets = {k: getattr(config, k) for k in SECRET_FIELDS if getattr(config, k) is not None}
    return keyring.encrypt_json(secrets, associated_data(inbox_id))


def decrypt_credentials(keyring: Keyring, inbox_id: uuid.UUID, blob: bytes) -> dict[str, str]:
    data = keyring.decrypt_json(blob, associated_data(inbox_id))
    return {k: str(data.get(k, "")) for k in SECRET_FIELDS}
