"""Inbox settings per channel. Secret fields are split off and stored encrypted, never returned."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, field_validator
from switchboard_common.domain.conversations import business_hours
from switchboard_common.infra.schemas import Strict

from switchboard_gateway.widget.cors import normalize_origin

Skill = str


ChannelName = Literal["web", "slack", "messenger", "api"]
# "https://shop.example.com" (normalized as browsers send it in Origin); no paths or wildcards.
Origin = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(normalize_origin)]


class ChannelSettings(Strict):
    # Pass-through: messages are delivered but their content is never stored (routing metadata only).
    pass_through: bool = False


class MirroredSettings(ChannelSettings):
    # Slack as the agents' workspace: conversations of this inbox are mirrored into that Slack inbox's channel.
    slack_mirror_inbox_id: uuid.UUID | None = None


class WebSettings(MirroredSettings):
    # Sites whose pages may call this inbox's widget API (CORS); empty: the deployment's WIDGET_ALLOWED_ORIGINS.
    allowed_origins: list[Origin] = Field(default_factory=list, max_length=50)
    greeting: str | None = Field(default=None, max_length=500)
    # The widget's title for visitors (the inbox's name stays internal); None: "Chat with us" in their language.
    display_name: str | None = Field(default=None, max_length=100)
    # Widget and auto-text language (en, el, hu, sq, ...); None: the visitor's browser language.
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")
    consent_required: bool = False
    consent_text: str | None = Field(default=None, max_length=2000)
    # Version of consent_text: change it with the text, and visitors must accept the new one (docs/privacy.md).
    consent_version: str = Field(default="1", min_length=1, max_length=40)
    # Per-language overrides of the texts above: {"el": {"greeting": "...", "consent_text": "..."}}.
    translations: dict[str, dict[str, str]] = Field(default_factory=dict, max_length=20)


class SlackSettings(ChannelSettings):
    team_id: str = Field(min_length=1, max_length=32, pattern=r"^[A-Z0-9]+$")
    channel_id: str = Field(min_length=1, max_length=32, pattern=r"^[A-Z0-9]+$")
    bot_token: str = Field(min_length=10, max_length=255, pattern=r"^xox[bp]-")
    bot_user_id: str = Field(min_length=1, max_length=32, pattern=r"^[A-Z0-9]+$")


class MessengerSettings(MirroredSettings):
    page_id: str = Field(min_length=1, max_length=32, pattern=r"^[0-9]+$")
    page_access_token: str = Field(min_length=10, max_length=1024)
    # Handover protocol: the app (e.g. Page Inbox, 263902037430900) that gets the thread when the bot hands off.
    handover_target_app_id: str | None = Field(default=None, max_length=32, pattern=r"^[0-9]+$")


class ApiSettings(ChannelSettings):
    callback_url: AnyHttpUrl | None = None


CHANNEL_SETTINGS: dict[str, type[ChannelSettings]] = {
    "web": WebSettings,
    "slack": SlackSettings,
    "messenger": MessengerSettings,
    "api": ApiSettings,
}
SECRET_FIELDS: dict[str, frozenset[str]] = {
    "web": frozenset(),
    "slack": frozenset({"bot_token"}),
    "messenger": frozenset({"page_access_token"}),
    "api": frozenset(),
}


class InboxCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    channel: ChannelName
    settings: dict[str, Any] = Field(default_factory=dict)


class InboxUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    # Merged into the current settings and validated for the inbox's channel; secret fields replace the stored ones.
    settings: dict[str, Any] | None = None


class SecretOut(BaseModel):
    secret: str
    previous_valid_until: datetime


class InboxOut(BaseModel):
    id: uuid.UUID
    name: str
    channel: ChannelName
    widget_token: str | None = None
    settings: dict[str, Any]
    created_at: datetime
    # Shown once, at creation (API inbox signing secret).
    secret: str | None = None


LabelName = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=50)]


class InboxRouting(BaseModel):
    """Every field optional on update; missing fields keep their value (see docs/routing.md for defaults)."""

    model_config = ConfigDict(extra="forbid")

    strategy: Literal["least_busy", "round_robin", "sticky", "manual"] | None = None
    team_id: uuid.UUID | None = None
    required_skills: list[Skill] | None = Field(default=None, max_length=50)
    preferred_skills: list[Skill] | None = Field(default=None, max_length=50)
    offer_timeout_seconds: float | None = Field(default=None, ge=0, le=3600)
    first_response_seconds: float | None = Field(default=None, ge=0, le=7 * 86400)
    auto_resolve_seconds: float | None = Field(default=None, ge=0, le=90 * 86400)
    escalation_seconds: float | None = Field(default=None, ge=0, le=7 * 86400)
    sticky_window_seconds: float | None = Field(default=None, ge=0, le=365 * 86400)
    business_hours: dict[str, Any] | None = None
    out_of_hours_message: str | None = Field(default=None, min_length=1, max_length=2000)
    # Labels every new conversation of the inbox gets (names of the account's labels).
    labels: list[LabelName] | None = Field(default=None, max_length=20)

    @field_validator("business_hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            business_hours.validate(value)
        return value


class AccountRouting(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel_weights: dict[Literal["web", "slack", "messenger", "api"], float] | None = None
    give_back_on_offline: bool | None = None
    grace_seconds: float | None = Field(default=None, ge=0, le=3600)
    default_max_conversations: int | None = Field(default=None, ge=0, le=1000)

    @field_validator("channel_weights")
    @classmethod
    def _positive(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None and any(not 0 < w <= 100 for w in value.values()):
            raise ValueError("weights must be in (0, 100]")
        return value


class SlackMirrorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # None unlinks.
    slack_inbox_id: uuid.UUID | None
