"""An inbox's bot configuration (Dialogflow), shared by the gateway (``PUT /api/v1/inboxes/{id}/bot``) and
the connectors' bot worker. Credentials (OAuth client id and secret, refresh token) are encrypted with the
keyring, bound to the inbox, and never returned or logged."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from switchboard_common.domain.encryption.columns import INBOX_BOT_CREDENTIALS
from switchboard_common.infra.crypto import Keyring
from switchboard_common.infra.inputs import Float, Int, omittable, text
from switchboard_common.infra.schemas import Strict

SECRET_FIELDS = ("client_id", "client_secret", "refresh_token", "fulfillment_password")


Skill = Annotated[str, text(100)]
Tag = Annotated[str, text(64)]
Intent = Annotated[str, text(200)]
Credential = Annotated[str, text(255, visible=False)]
RefreshToken = Annotated[str, text(1024, visible=False)]
FulfillmentPassword = Annotated[str, text(255, min_length=16, visible=False)]


class HandoffRouting(Strict):
    """What the router gets on handoff (docs/routing.md); each may be left out."""

    skills: list[Skill] = Field(default_factory=list, max_length=20)
    preferred_skills: list[Skill] = Field(default_factory=list, max_length=20)
    language: Annotated[str, StringConstraints(max_length=3, pattern=r"^[a-z]{2,3}$")] = omittable()
    priority: Int = omittable(ge=-1000, le=1000)
    team_id: uuid.UUID = omittable()


class BotPreferences(Strict):
    """What the client sets and is stored in clear."""

    provider: Literal["dialogflow"] = "dialogflow"
    project_id: Annotated[str, StringConstraints(min_length=6, max_length=30, pattern=r"^[a-z][a-z0-9-]+$")]
    language_code: Annotated[
        str, StringConstraints(min_length=2, max_length=12, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]+)*$")
    ] = "en"
    # Intent display names that mean "a human, please".
    handoff_intents: list[Intent] = Field(default_factory=list, max_length=50)
    # Below this detection confidence a turn counts as "not understood"; low_confidence_turns such turns in
    # a row hand off (0 disables the threshold).
    confidence_threshold: Float = Field(default=0.0, ge=0.0, le=1.0)
    low_confidence_turns: Int = Field(default=2, ge=1, le=10)
    # A custom payload key that asks for a live agent (ES has no handoff message type): {"handoff": true}.
    handoff_payload_key: Tag = "handoff"
    # Fulfillment webhook: the tag (CX) or action (ES) that hands off, and the one that answers with status.
    handoff_tag: Tag = "handoff"
    status_tag: Tag = "conversation_status"
    # Routing hints passed to the router on handoff ({"skills": [...], "language": "fr", ...}); stored as given.
    handoff_routing: dict[str, Any] = Field(default_factory=dict)


class BotSettings(BotPreferences):
    """What is stored in clear (``inbox_bots.settings``)."""

    # Set by the gateway, never by the client: the inbox has its own fulfillment password, so fulfillment calls
    # for its conversations are accepted only at /webhooks/dialogflow/{inbox_id} with it.
    fulfillment_credentials: bool = False


class BotConfigIn(BotPreferences):
    handoff_routing: HandoffRouting = Field(default_factory=HandoffRouting)  # type: ignore[assignment]  # input narrows the stored dict
    client_id: Credential
    client_secret: Credential
    refresh_token: RefreshToken
    # Basic-auth password Dialogflow sends to /webhooks/dialogflow/{inbox_id} (user: the inbox id). Unset, that
    # URL takes the installation's DIALOGFLOW_WEBHOOK_USER/PASSWORD and the shared URL serves the inbox too.
    fulfillment_password: FulfillmentPassword | None = None

    def stored_settings(self) -> BotSettings:
        """Everything but the credentials, as stored in clear (the handoff hints without the ones left out, and
        whether the inbox has its own fulfillment password)."""
        values = self.model_dump(mode="json", exclude=set(SECRET_FIELDS))
        values["handoff_routing"] = self.handoff_routing.model_dump(mode="json", exclude_unset=True)
        values["fulfillment_credentials"] = self.fulfillment_password is not None
        return BotSettings.model_validate(values)


def associated_data(inbox_id: uuid.UUID) -> bytes:
    return INBOX_BOT_CREDENTIALS.aad(inbox_id)


def encrypt_credentials(keyring: Keyring, inbox_id: uuid.UUID, config: BotConfigIn) -> bytes:
    secrets = {k: getattr(config, k) for k in SECRET_FIELDS if getattr(config, k) is not None}
    return keyring.encrypt_json(secrets, associated_data(inbox_id))


def decrypt_credentials(keyring: Keyring, inbox_id: uuid.UUID, blob: bytes) -> dict[str, str]:
    data = keyring.decrypt_json(blob, associated_data(inbox_id))
    return {k: str(data.get(k, "")) for k in SECRET_FIELDS}
