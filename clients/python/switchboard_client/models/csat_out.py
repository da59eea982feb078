from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="CsatOut")


@_attrs_define
class CsatOut:
    """
    Attributes:
        conversation_id (UUID):
        rating (int):
        comment (None | str):
        answered_at (datetime.datetime):
    """

    conversation_id: UUID
    rating: int
    comment: None | str
    answered_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        conversation_id = str(self.conversation_id)

        rating = self.rating

        comment: None | str
        comment = self.comment

        answered_at = self.answered_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "conversation_id": conversation_id,
                "rating": rating,
                "comment": comment,
                "answered_at": answered_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        conversation_id = UUID(d.pop("conversation_id"))

        rating = d.pop("rating")

        def _parse_comment(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        comment = _parse_comment(d.pop("comment"))

        answered_at = datetime.datetime.fromisoformat(d.pop("answered_at"))

        csat_out = cls(
            conversation_id=conversation_id,
            rating=rating,
            comment=comment,
            answered_at=answered_at,
        )

        csat_out.additional_properties = d
        return csat_out

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
