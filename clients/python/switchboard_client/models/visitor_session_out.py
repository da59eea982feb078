from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="VisitorSessionOut")


@_attrs_define
class VisitorSessionOut:
    """
    Attributes:
        visitor_token (str):
        contact_id (UUID):
    """

    visitor_token: str
    contact_id: UUID
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        visitor_token = self.visitor_token

        contact_id = str(self.contact_id)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "visitor_token": visitor_token,
                "contact_id": contact_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        visitor_token = d.pop("visitor_token")

        contact_id = UUID(d.pop("contact_id"))

        visitor_session_out = cls(
            visitor_token=visitor_token,
            contact_id=contact_id,
        )

        visitor_session_out.additional_properties = d
        return visitor_session_out

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
