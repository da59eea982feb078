from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="CannedResponseCreate")


@_attrs_define
class CannedResponseCreate:
    """
    Attributes:
        short_code (str):
        content (str):
    """

    short_code: str
    content: str

    def to_dict(self) -> dict[str, Any]:
        short_code = self.short_code

        content = self.content

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "short_code": short_code,
                "content": content,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        short_code = d.pop("short_code")

        content = d.pop("content")

        canned_response_create = cls(
            short_code=short_code,
            content=content,
        )

        return canned_response_create
