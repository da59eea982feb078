from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="CannedResponseOut")


@_attrs_define
class CannedResponseOut:
    """
    Attributes:
        id (UUID):
        short_code (str):
        content (str):
        created_by (None | UUID):
        created_at (datetime.datetime):
        rendered (None | str | Unset):
    """

    id: UUID
    short_code: str
    content: str
    created_by: None | UUID
    created_at: datetime.datetime
    rendered: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        short_code = self.short_code

        content = self.content

        created_by: None | str
        if isinstance(self.created_by, UUID):
            created_by = str(self.created_by)
        else:
            created_by = self.created_by

        created_at = self.created_at.isoformat()

        rendered: None | str | Unset
        if isinstance(self.rendered, Unset):
            rendered = UNSET
        else:
            rendered = self.rendered

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "short_code": short_code,
                "content": content,
                "created_by": created_by,
                "created_at": created_at,
            }
        )
        if rendered is not UNSET:
            field_dict["rendered"] = rendered

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        short_code = d.pop("short_code")

        content = d.pop("content")

        def _parse_created_by(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                created_by_type_0 = UUID(data)

                return created_by_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        created_by = _parse_created_by(d.pop("created_by"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_rendered(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        rendered = _parse_rendered(d.pop("rendered", UNSET))

        canned_response_out = cls(
            id=id,
            short_code=short_code,
            content=content,
            created_by=created_by,
            created_at=created_at,
            rendered=rendered,
        )

        canned_response_out.additional_properties = d
        return canned_response_out

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
