from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ReplyCreate")


@_attrs_define
class ReplyCreate:
    """A reply, sent to the customer.

    Attributes:
        text (str):
        private (bool | Unset):  Default: False.
    """

    text: str
    private: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        text = self.text

        private = self.private

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "text": text,
            }
        )
        if private is not UNSET:
            field_dict["private"] = private

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        text = d.pop("text")

        private = d.pop("private", UNSET)

        reply_create = cls(
            text=text,
            private=private,
        )

        return reply_create
