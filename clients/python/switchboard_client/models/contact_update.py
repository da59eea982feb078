from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.contact_update_custom_attributes import ContactUpdateCustomAttributes


T = TypeVar("T", bound="ContactUpdate")


@_attrs_define
class ContactUpdate:
    """Attributes to set (``null`` removes one); attributes not named keep their value.

    Attributes:
        custom_attributes (ContactUpdateCustomAttributes):
    """

    custom_attributes: ContactUpdateCustomAttributes

    def to_dict(self) -> dict[str, Any]:
        custom_attributes = self.custom_attributes.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "custom_attributes": custom_attributes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.contact_update_custom_attributes import ContactUpdateCustomAttributes  # noqa: PLC0415

        d = dict(src_dict)
        custom_attributes = ContactUpdateCustomAttributes.from_dict(d.pop("custom_attributes"))

        contact_update = cls(
            custom_attributes=custom_attributes,
        )

        return contact_update
