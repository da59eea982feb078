"""Inbox settings per channel. Secret fields are split off and stored encrypted, never returned."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints
from switchboard_common.domain.conversations import business_hours
from switchboard_common.infra.inputs import (
    IPV6_PATTERN,
    PORT_PATTERN,
    Bool,
    Float,
    HttpUrl,
    Int,
    Name,
    omittable,
    partial,
    text,
)
from switchboard_common.infra.schemas import Strict

from switchboard_gateway.labels.schemas import LabelName
from switchboard_gateway.widget.cors import normalize_origin

Skill = Annotated[str, text(100)]


ChannelName = Literal["web", "slack", "messenger", "api"]
# "https://shop.example.com" (normalized as browsers send it in Origin: lower case, no default port); no paths
# or wildcards.
ORIGIN_PATTERN = (
    rf"^[Hh][Tt][Tt][Pp][Ss]?://([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[({IPV6_PATTERN})\])(:{PORT_PATTERN})?/?$"
)
Origin = Annotated[str, StringConstraints(max_length=300, pattern=ORIGIN_PATTERN), AfterValidator(normalize_origin)]
Language = Annotated[str, StringConstraints(max_length=6, pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")]
SlackId = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Z0-9]+$")]
Greeting = Annotated[str, text(500, visible=False)]
DisplayName = Annotated[str, text(100)]
ConsentText = Annotated[str, text(2000, visible=False)]
ConsentVersion = Annotated[str, text(40)]
# Platform tokens travel in an Authorization header ("Bearer <token>"): the token68 characters of RFC 7235,
# so a header can always be built from one (a non-ASCII one could not be sent at all).
TOKEN68 = r"[A-Za-z0-9\-._~+/]+=*"
PageAccessToken = Annotated[str, StringConstraints(min_length=10, max_length=1024, pattern=f"^{TOKEN68}$")]
SlackBotToken = Annotated[str, StringConstraints(min_length=10, max_length=255, pattern=f"^xox[bp]-{TOKEN68}$")]
TranslatedText = Literal["greeting", "consent_text"]


class ChannelSettings(Strict):
    # Pass-through: messages are delivered but their content is never stored (routing metadata only).
    pass_through: Bool = False


class MirroredSettings(ChannelSettings):
    # Slack as the agents' workspace: conversations of this inbox are mirrored into that Slack inbox's channel.
    slack_mirror_inbox_id: uuid.UUID | None = None


class WebSettings(MirroredSettings):
    # Sites whose pages may call this inbox's widget API (CORS); empty: the deployment's WIDGET_ALLOWED_ORIGINS.
    allowed_origins: list[Origin] = Field(default_factory=list, max_length=50)
    greeting: Greeting | None = None
    # The widget's title for visitors (the inbox's name stays internal); None: "Chat with us" in their language.
    display_name: DisplayName | None = None
    # Widget and auto-text language (en, el, hu, sq, ...); None: the visitor's browser language.
    language: Language | None = None
    consent_required: Bool = False
    consent_text: ConsentText | None = None
    # Version of consent_text: change it with the text, and visitors must accept the new one (docs/privacy.md).
    consent_version: ConsentVersion = "1"
    # Per-language overrides of the texts above: {"el": {"greeting": "...", "consent_text": "..."}}.
    translations: dict[Language, dict[TranslatedText, ConsentText]] = Field(default_factory=dict, max_length=20)


class SlackSettings(ChannelSettings):
    team_id: SlackId
    channel_id: SlackId
    bot_token: SlackBotToken
    bot_user_id: SlackId


class MessengerSettings(MirroredSettings):
    page_id: Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[0-9]+$")]
    page_access_token: PageAccessToken
    # Handover protocol: the app (e.g. Page Inbox, 263902037430900) that gets the thread when the bot hands off.
    handover_target_app_id: Annotated[str, StringConstraints(max_length=32, pattern=r"^[0-9]+$")] | None = None


class ApiSettings(ChannelSettings):
    # Where outbound messages of this inbox are POSTed (signed); None: the back end polls instead.
    callback_url: HttpUrl | None = None


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


class WebInboxCreate(Strict):
    name: Name
    channel: Literal["web"]
    settings: WebSettings = Field(default_factory=WebSettings)


class SlackInboxCreate(Strict):
    name: Name
    channel: Literal["slack"]
    settings: SlackSettings


class MessengerInboxCreate(Strict):
    name: Name
    channel: Literal["messenger"]
    settings: MessengerSettings


class ApiInboxCreate(Strict):
    name: Name
    channel: Literal["api"]
    settings: ApiSettings = Field(default_factory=ApiSettings)


InboxCreate = Annotated[
    WebInboxCreate | SlackInboxCreate | MessengerInboxCreate | ApiInboxCreate, Field(discriminator="channel")
]
# On update, settings are merged into the current ones: any subset of the inbox's channel's settings.
if TYPE_CHECKING:  # the same fields, each omittable: the checker reads them as the full settings
    WebSettingsUpdate = WebSettings
    SlackSettingsUpdate = SlackSettings
    MessengerSettingsUpdate = MessengerSettings
    ApiSettingsUpdate = ApiSettings
else:
    WebSettingsUpdate = partial(WebSettings, "WebSettingsUpdate")
    SlackSettingsUpdate = partial(SlackSettings, "SlackSettingsUpdate")
    MessengerSettingsUpdate = partial(MessengerSettings, "MessengerSettingsUpdate")
    ApiSettingsUpdate = partial(ApiSettings, "ApiSettingsUpdate")


class InboxUpdate(Strict):
    """Fields left out keep their value. Settings are merged into the current ones and must be settings of the
    inbox's channel (else 409 settings_not_for_channel); secret fields replace the stored ones."""

    name: Name = omittable()
    settings: WebSettingsUpdate | SlackSettingsUpdate | MessengerSettingsUpdate | ApiSettingsUpdate = omittable()


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


Strategy = Literal["least_busy", "round_robin", "sticky", "manual"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
if TYPE_CHECKING:  # a Literal of every tzdata name, built at run time: text to the checker
    Timezone = str
else:
    Timezone = Literal[business_hours.timezones()]
OutOfHoursMessage = Annotated[str, text(2000)]
Weight = Annotated[float, Field(gt=0, le=100, strict=True)]
Clock = Annotated[str, StringConstraints(max_length=5, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class BusinessHours(Strict):
    """Open hours per weekday in a time zone; a day left out is closed. ``["22:00", "06:00"]`` runs past
    midnight; ``["00:00", "00:00"]`` is the whole day (docs/routing.md)."""

    timezone: Timezone = "UTC"
    weekly: dict[Day, Annotated[list[tuple[Clock, Clock]], Field(max_length=10)]] = Field(default_factory=dict)


class InboxRouting(Strict):
    """Fields left out keep their value (see docs/routing.md for defaults); team_id and business_hours take
    null (no team; always open)."""

    strategy: Strategy = omittable()
    team_id: uuid.UUID | None = None
    required_skills: list[Skill] = omittable(max_length=50)
    preferred_skills: list[Skill] = omittable(max_length=50)
    offer_timeout_seconds: Float = omittable(ge=0, le=3600)
    first_response_seconds: Float = omittable(ge=0, le=7 * 86400)
    auto_resolve_seconds: Float = omittable(ge=0, le=90 * 86400)
    escalation_seconds: Float = omittable(ge=0, le=7 * 86400)
    sticky_window_seconds: Float = omittable(ge=0, le=365 * 86400)
    business_hours: BusinessHours | None = None
    out_of_hours_message: OutOfHoursMessage = omittable()
    # Labels every new conversation of the inbox gets (names of the account's labels; unknown ones are a 409).
    labels: list[LabelName] = omittable(max_length=20)


class AccountRouting(Strict):
    """Fields left out keep their value."""

    # Weight of a conversation of each channel in an agent's load; a channel left out weighs 1.
    channel_weights: dict[Literal["web", "slack", "messenger", "api"], Weight] = omittable()
    give_back_on_offline: Bool = omittable()
    grace_seconds: Float = omittable(ge=0, le=3600)
    default_max_conversations: Int = omittable(ge=0, le=1000)


class InboxRoutingOut(BaseModel):
    strategy: Strategy
    team_id: uuid.UUID | None
    required_skills: list[str]
    preferred_skills: list[str]
    offer_timeout_seconds: float
    first_response_seconds: float
    auto_resolve_seconds: float
    escalation_seconds: float
    sticky_window_seconds: float
    business_hours: dict[str, Any] | None
    out_of_hours_message: str
    labels: list[str]


class AccountRoutingOut(BaseModel):
    channel_weights: dict[str, float]
    give_back_on_offline: bool
    grace_seconds: float
    default_max_conversations: int


class SlackMirrorIn(Strict):
    # None unlinks.
    slack_inbox_id: uuid.UUID | None


class BotOut(BaseModel):
    """An inbox's bot as stored, never its credentials (only that they are stored)."""

    inbox_id: uuid.UUID
    provider: Literal["dialogflow"]
    project_id: str
    language_code: str
    handoff_intents: list[str]
    confidence_threshold: float
    low_confidence_turns: int
    handoff_payload_key: str
    handoff_tag: str
    status_tag: str
    handoff_routing: dict[str, Any]
    # The inbox has its own fulfillment password: Dialogflow must call fulfillment_url with it.
    fulfillment_credentials: bool = False
    fulfillment_url: str
    enabled: bool
    broken_reason: str | None
    credentials_stored: bool
    updated_at: datetime
