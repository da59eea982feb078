from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="VisitorMessageOut")


@_attrs_define
class VisitorMessageOut:
    """
    Attributes:
        id (UUID):
        conversation_id (UUID):
        direction (str):
        sender_type (str):
        text (None | str):
        created_at (Any):
    """

    id: UUID
    conversation_id: UUID
    direction: str
    sender_type: str
    text: None | str
    created_at: Any
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        conversation_id = str(self.conversation_id)

        direction = self.direction

        sender_type = self.sender_type

        text: None | str
        text = self.text

        created_at = self.created_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "conversation_id": conversation_id,
                "direction": direction,
                "sender_type": sender_type,
                "text": text,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        conversation_id = UUID(d.pop("conversation_id"))

        direction = d.pop("direction")

        sender_type = d.pop("sender_type")

        def _parse_text(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        text = _parse_text(d.pop("text"))

        created_at = d.pop("created_at")

        visitor_message_out = cls(
            id=id,
            conversation_id=conversation_id,
            direction=direction,
            sender_type=sender_type,
            text=text,
            created_at=created_at,
        )

        visitor_message_out.additional_properties = d
        return visitor_message_out

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
