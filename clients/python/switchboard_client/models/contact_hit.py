from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.contact_hit_custom_attributes import ContactHitCustomAttributes


T = TypeVar("T", bound="ContactHit")


@_attrs_define
class ContactHit:
    """
    Attributes:
        contact_id (UUID):
        name (None | str):
        email (None | str):
        phone (None | str):
        custom_attributes (ContactHitCustomAttributes):
        rank (float):
    """

    contact_id: UUID
    name: None | str
    email: None | str
    phone: None | str
    custom_attributes: ContactHitCustomAttributes
    rank: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        contact_id = str(self.contact_id)

        name: None | str
        name = self.name

        email: None | str
        email = self.email

        phone: None | str
        phone = self.phone

        custom_attributes = self.custom_attributes.to_dict()

        rank = self.rank

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "contact_id": contact_id,
                "name": name,
                "email": email,
                "phone": phone,
                "custom_attributes": custom_attributes,
                "rank": rank,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.contact_hit_custom_attributes import ContactHitCustomAttributes  # noqa: PLC0415

        d = dict(src_dict)
        contact_id = UUID(d.pop("contact_id"))

        def _parse_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        name = _parse_name(d.pop("name"))

        def _parse_email(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        email = _parse_email(d.pop("email"))

        def _parse_phone(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        phone = _parse_phone(d.pop("phone"))

        custom_attributes = ContactHitCustomAttributes.from_dict(d.pop("custom_attributes"))

        rank = d.pop("rank")

        contact_hit = cls(
            contact_id=contact_id,
            name=name,
            email=email,
            phone=phone,
            custom_attributes=custom_attributes,
            rank=rank,
        )

        contact_hit.additional_properties = d
        return contact_hit

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
