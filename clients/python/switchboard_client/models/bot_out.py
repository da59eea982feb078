from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.bot_out_handoff_routing import BotOutHandoffRouting


T = TypeVar("T", bound="BotOut")


@_attrs_define
class BotOut:
    """An inbox's bot as stored, never its credentials (only that they are stored).

    Attributes:
        inbox_id (UUID):
        provider (Literal['dialogflow']):
        project_id (str):
        language_code (str):
        handoff_intents (list[str]):
        confidence_threshold (float):
        low_confidence_turns (int):
        handoff_payload_key (str):
        handoff_tag (str):
        status_tag (str):
        handoff_routing (BotOutHandoffRouting):
        fulfillment_url (str):
        enabled (bool):
        broken_reason (None | str):
        credentials_stored (bool):
        updated_at (datetime.datetime):
        fulfillment_credentials (bool | Unset):  Default: False.
    """

    inbox_id: UUID
    provider: Literal["dialogflow"]
    project_id: str
    language_code: str
    handoff_intents: list[str]
    confidence_threshold: float
    low_confidence_turns: int
    handoff_payload_key: str
    handoff_tag: str
    status_tag: str
    handoff_routing: BotOutHandoffRouting
    fulfillment_url: str
    enabled: bool
    broken_reason: None | str
    credentials_stored: bool
    updated_at: datetime.datetime
    fulfillment_credentials: bool | Unset = False
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        inbox_id = str(self.inbox_id)

        provider = self.provider

        project_id = self.project_id

        language_code = self.language_code

        handoff_intents = self.handoff_intents

        confidence_threshold = self.confidence_threshold

        low_confidence_turns = self.low_confidence_turns

        handoff_payload_key = self.handoff_payload_key

        handoff_tag = self.handoff_tag

        status_tag = self.status_tag

        handoff_routing = self.handoff_routing.to_dict()

        fulfillment_url = self.fulfillment_url

        enabled = self.enabled

        broken_reason: None | str
        broken_reason = self.broken_reason

        credentials_stored = self.credentials_stored

        updated_at = self.updated_at.isoformat()

        fulfillment_credentials = self.fulfillment_credentials

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "inbox_id": inbox_id,
                "provider": provider,
                "project_id": project_id,
                "language_code": language_code,
                "handoff_intents": handoff_intents,
                "confidence_threshold": confidence_threshold,
                "low_confidence_turns": low_confidence_turns,
                "handoff_payload_key": handoff_payload_key,
                "handoff_tag": handoff_tag,
                "status_tag": status_tag,
                "handoff_routing": handoff_routing,
                "fulfillment_url": fulfillment_url,
                "enabled": enabled,
                "broken_reason": broken_reason,
                "credentials_stored": credentials_stored,
                "updated_at": updated_at,
            }
        )
        if fulfillment_credentials is not UNSET:
            field_dict["fulfillment_credentials"] = fulfillment_credentials

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.bot_out_handoff_routing import BotOutHandoffRouting  # noqa: PLC0415

        d = dict(src_dict)
        inbox_id = UUID(d.pop("inbox_id"))

        provider = cast(Literal["dialogflow"], d.pop("provider"))
        if provider != "dialogflow":
            raise ValueError(f"provider must match const 'dialogflow', got '{provider}'")

        project_id = d.pop("project_id")

        language_code = d.pop("language_code")

        handoff_intents = cast(list[str], d.pop("handoff_intents"))

        confidence_threshold = d.pop("confidence_threshold")

        low_confidence_turns = d.pop("low_confidence_turns")

        handoff_payload_key = d.pop("handoff_payload_key")

        handoff_tag = d.pop("handoff_tag")

        status_tag = d.pop("status_tag")

        handoff_routing = BotOutHandoffRouting.from_dict(d.pop("handoff_routing"))

        fulfillment_url = d.pop("fulfillment_url")

        enabled = d.pop("enabled")

        def _parse_broken_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        broken_reason = _parse_broken_reason(d.pop("broken_reason"))

        credentials_stored = d.pop("credentials_stored")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        fulfillment_credentials = d.pop("fulfillment_credentials", UNSET)

        bot_out = cls(
            inbox_id=inbox_id,
            provider=provider,
            project_id=project_id,
            language_code=language_code,
            handoff_intents=handoff_intents,
            confidence_threshold=confidence_threshold,
            low_confidence_turns=low_confidence_turns,
            handoff_payload_key=handoff_payload_key,
            handoff_tag=handoff_tag,
            status_tag=status_tag,
            handoff_routing=handoff_routing,
            fulfillment_url=fulfillment_url,
            enabled=enabled,
            broken_reason=broken_reason,
            credentials_stored=credentials_stored,
            updated_at=updated_at,
            fulfillment_credentials=fulfillment_credentials,
        )

        bot_out.additional_properties = d
        return bot_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
