from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="LabelOut")


@_attrs_define
class LabelOut:
    """
    Attributes:
        id (UUID):
        name (str):
        color (str):
        description (None | str):
        created_at (datetime.datetime):
        conversation_count (int | Unset):  Default: 0.
    """

    id: UUID
    name: str
    color: str
    description: None | str
    created_at: datetime.datetime
    conversation_count: int | Unset = 0
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        name = self.name

        color = self.color

        description: None | str
        description = self.description

        created_at = self.created_at.isoformat()

        conversation_count = self.conversation_count

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "color": color,
                "description": description,
                "created_at": created_at,
            }
        )
        if conversation_count is not UNSET:
            field_dict["conversation_count"] = conversation_count

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        name = d.pop("name")

        color = d.pop("color")

        def _parse_description(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        description = _parse_description(d.pop("description"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        conversation_count = d.pop("conversation_count", UNSET)

        label_out = cls(
            id=id,
            name=name,
            color=color,
            description=description,
            created_at=created_at,
            conversation_count=conversation_count,
        )

        label_out.additional_properties = d
        return label_out

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
