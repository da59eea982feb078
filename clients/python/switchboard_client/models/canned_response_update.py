from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="CannedResponseUpdate")


@_attrs_define
class CannedResponseUpdate:
    """Fields left out keep their value.

    Attributes:
        short_code (str | Unset):
        content (str | Unset):
    """

    short_code: str | Unset = UNSET
    content: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        short_code = self.short_code

        content = self.content

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if short_code is not UNSET:
            field_dict["short_code"] = short_code
        if content is not UNSET:
            field_dict["content"] = content

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        short_code = d.pop("short_code", UNSET)

        content = d.pop("content", UNSET)

        canned_response_update = cls(
            short_code=short_code,
            content=content,
        )

        return canned_response_update
