from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.hit_page_contact_hit import HitPageContactHit
    from ..models.hit_page_message_hit import HitPageMessageHit


T = TypeVar("T", bound="SearchOut")


@_attrs_define
class SearchOut:
    """
    Attributes:
        query (str):
        page (int):
        per_page (int):
        messages (HitPageMessageHit):
        contacts (HitPageContactHit):
    """

    query: str
    page: int
    per_page: int
    messages: HitPageMessageHit
    contacts: HitPageContactHit
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        query = self.query

        page = self.page

        per_page = self.per_page

        messages = self.messages.to_dict()

        contacts = self.contacts.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "query": query,
                "page": page,
                "per_page": per_page,
                "messages": messages,
                "contacts": contacts,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.hit_page_contact_hit import HitPageContactHit  # noqa: PLC0415
        from ..models.hit_page_message_hit import HitPageMessageHit  # noqa: PLC0415

        d = dict(src_dict)
        query = d.pop("query")

        page = d.pop("page")

        per_page = d.pop("per_page")

        messages = HitPageMessageHit.from_dict(d.pop("messages"))

        contacts = HitPageContactHit.from_dict(d.pop("contacts"))

        search_out = cls(
            query=query,
            page=page,
            per_page=per_page,
            messages=messages,
            contacts=contacts,
        )

        search_out.additional_properties = d
        return search_out

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
