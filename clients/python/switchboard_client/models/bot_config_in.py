from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.handoff_routing import HandoffRouting


T = TypeVar("T", bound="BotConfigIn")


@_attrs_define
class BotConfigIn:
    """
    Attributes:
        project_id (str):
        client_id (str):
        client_secret (str):
        refresh_token (str):
        provider (Literal['dialogflow'] | Unset):  Default: 'dialogflow'.
        language_code (str | Unset):  Default: 'en'.
        handoff_intents (list[str] | Unset):
        confidence_threshold (float | Unset):  Default: 0.0.
        low_confidence_turns (int | Unset):  Default: 2.
        handoff_payload_key (str | Unset):  Default: 'handoff'.
        handoff_tag (str | Unset):  Default: 'handoff'.
        status_tag (str | Unset):  Default: 'conversation_status'.
        handoff_routing (HandoffRouting | Unset): What the router gets on handoff (docs/routing.md); each may be left
            out.
        fulfillment_password (None | str | Unset):
    """

    project_id: str
    client_id: str
    client_secret: str
    refresh_token: str
    provider: Literal["dialogflow"] | Unset = "dialogflow"
    language_code: str | Unset = "en"
    handoff_intents: list[str] | Unset = UNSET
    confidence_threshold: float | Unset = 0.0
    low_confidence_turns: int | Unset = 2
    handoff_payload_key: str | Unset = "handoff"
    handoff_tag: str | Unset = "handoff"
    status_tag: str | Unset = "conversation_status"
    handoff_routing: HandoffRouting | Unset = UNSET
    fulfillment_password: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        project_id = self.project_id

        client_id = self.client_id

        client_secret = self.client_secret

        refresh_token = self.refresh_token

        provider = self.provider

        language_code = self.language_code

        handoff_intents: list[str] | Unset = UNSET
        if not isinstance(self.handoff_intents, Unset):
            handoff_intents = self.handoff_intents

        confidence_threshold = self.confidence_threshold

        low_confidence_turns = self.low_confidence_turns

        handoff_payload_key = self.handoff_payload_key

        handoff_tag = self.handoff_tag

        status_tag = self.status_tag

        handoff_routing: dict[str, Any] | Unset = UNSET
        if not isinstance(self.handoff_routing, Unset):
            handoff_routing = self.handoff_routing.to_dict()

        fulfillment_password: None | str | Unset
        if isinstance(self.fulfillment_password, Unset):
            fulfillment_password = UNSET
        else:
            fulfillment_password = self.fulfillment_password

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "project_id": project_id,
                "client_id": client_id,
                "client_secret": client_secret,
                "refresh_token": refresh_token,
            }
        )
        if provider is not UNSET:
            field_dict["provider"] = provider
        if language_code is not UNSET:
            field_dict["language_code"] = language_code
        if handoff_intents is not UNSET:
            field_dict["handoff_intents"] = handoff_intents
        if confidence_threshold is not UNSET:
            field_dict["confidence_threshold"] = confidence_threshold
        if low_confidence_turns is not UNSET:
            field_dict["low_confidence_turns"] = low_confidence_turns
        if handoff_payload_key is not UNSET:
            field_dict["handoff_payload_key"] = handoff_payload_key
        if handoff_tag is not UNSET:
            field_dict["handoff_tag"] = handoff_tag
        if status_tag is not UNSET:
            field_dict["status_tag"] = status_tag
        if handoff_routing is not UNSET:
            field_dict["handoff_routing"] = handoff_routing
        if fulfillment_password is not UNSET:
            field_dict["fulfillment_password"] = fulfillment_password

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.handoff_routing import HandoffRouting  # noqa: PLC0415

        d = dict(src_dict)
        project_id = d.pop("project_id")

        client_id = d.pop("client_id")

        client_secret = d.pop("client_secret")

        refresh_token = d.pop("refresh_token")

        provider = cast(Literal["dialogflow"] | Unset, d.pop("provider", UNSET))
        if provider != "dialogflow" and not isinstance(provider, Unset):
            raise ValueError(f"provider must match const 'dialogflow', got '{provider}'")

        language_code = d.pop("language_code", UNSET)

        handoff_intents = cast(list[str], d.pop("handoff_intents", UNSET))

        confidence_threshold = d.pop("confidence_threshold", UNSET)

        low_confidence_turns = d.pop("low_confidence_turns", UNSET)

        handoff_payload_key = d.pop("handoff_payload_key", UNSET)

        handoff_tag = d.pop("handoff_tag", UNSET)

        status_tag = d.pop("status_tag", UNSET)

        _handoff_routing = d.pop("handoff_routing", UNSET)
        handoff_routing: HandoffRouting | Unset
        if isinstance(_handoff_routing, Unset):
            handoff_routing = UNSET
        else:
            handoff_routing = HandoffRouting.from_dict(_handoff_routing)

        def _parse_fulfillment_password(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        fulfillment_password = _parse_fulfillment_password(d.pop("fulfillment_password", UNSET))

        bot_config_in = cls(
            project_id=project_id,
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            provider=provider,
            language_code=language_code,
            handoff_intents=handoff_intents,
            confidence_threshold=confidence_threshold,
            low_confidence_turns=low_confidence_turns,
            handoff_payload_key=handoff_payload_key,
            handoff_tag=handoff_tag,
            status_tag=status_tag,
            handoff_routing=handoff_routing,
            fulfillment_password=fulfillment_password,
        )

        return bot_config_in
