from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="SpamVerdict")


@_attrs_define
class SpamVerdict:
    """
    Attributes:
        spam (bool | Unset):  Default: True.
    """

    spam: bool | Unset = True

    def to_dict(self) -> dict[str, Any]:
        spam = self.spam

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if spam is not UNSET:
            field_dict["spam"] = spam

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        spam = d.pop("spam", UNSET)

        spam_verdict = cls(
            spam=spam,
        )

        return spam_verdict
