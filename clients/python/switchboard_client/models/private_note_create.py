from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="PrivateNoteCreate")


@_attrs_define
class PrivateNoteCreate:
    """A private note: stored for the account's agents, never sent to the customer.

    Attributes:
        text (str):
        private (bool):
        mentions (list[UUID] | Unset):
    """

    text: str
    private: bool
    mentions: list[UUID] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        text = self.text

        private = self.private

        mentions: list[str] | Unset = UNSET
        if not isinstance(self.mentions, Unset):
            mentions = []
            for mentions_item_data in self.mentions:
                mentions_item = str(mentions_item_data)
                mentions.append(mentions_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "text": text,
                "private": private,
            }
        )
        if mentions is not UNSET:
            field_dict["mentions"] = mentions

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        text = d.pop("text")

        private = d.pop("private")

        _mentions = d.pop("mentions", UNSET)
        mentions: list[UUID] | Unset = UNSET
        if _mentions is not UNSET:
            mentions = []
            for mentions_item_data in _mentions:
                mentions_item = UUID(mentions_item_data)

                mentions.append(mentions_item)

        private_note_create = cls(
            text=text,
            private=private,
            mentions=mentions,
        )

        return private_note_create
