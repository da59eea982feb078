from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="CsatAnswer")


@_attrs_define
class CsatAnswer:
    """
    Attributes:
        conversation_id (UUID):
        rating (int):
        comment (None | str | Unset):
    """

    conversation_id: UUID
    rating: int
    comment: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        conversation_id = str(self.conversation_id)

        rating = self.rating

        comment: None | str | Unset
        if isinstance(self.comment, Unset):
            comment = UNSET
        else:
            comment = self.comment

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "conversation_id": conversation_id,
                "rating": rating,
            }
        )
        if comment is not UNSET:
            field_dict["comment"] = comment

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        conversation_id = UUID(d.pop("conversation_id"))

        rating = d.pop("rating")

        def _parse_comment(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        comment = _parse_comment(d.pop("comment", UNSET))

        csat_answer = cls(
            conversation_id=conversation_id,
            rating=rating,
            comment=comment,
        )

        return csat_answer
