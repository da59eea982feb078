from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.last_message_out_direction import LastMessageOutDirection, check_last_message_out_direction

T = TypeVar("T", bound="LastMessageOut")


@_attrs_define
class LastMessageOut:
    """The newest message customers and agents exchanged (not notes), shortened for a list.

    Attributes:
        text (None | str):
        direction (LastMessageOutDirection):
        sender_type (str):
        created_at (datetime.datetime):
    """

    text: None | str
    direction: LastMessageOutDirection
    sender_type: str
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        text: None | str
        text = self.text

        direction: str = self.direction

        sender_type = self.sender_type

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "text": text,
                "direction": direction,
                "sender_type": sender_type,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_text(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        text = _parse_text(d.pop("text"))

        direction = check_last_message_out_direction(d.pop("direction"))

        sender_type = d.pop("sender_type")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        last_message_out = cls(
            text=text,
            direction=direction,
            sender_type=sender_type,
            created_at=created_at,
        )

        last_message_out.additional_properties = d
        return last_message_out

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
