from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="TransferToTeam")


@_attrs_define
class TransferToTeam:
    """Back to routing, among the team's agents.

    Attributes:
        team_id (UUID):
        note (None | str | Unset):
    """

    team_id: UUID
    note: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        team_id = str(self.team_id)

        note: None | str | Unset
        if isinstance(self.note, Unset):
            note = UNSET
        else:
            note = self.note

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "team_id": team_id,
            }
        )
        if note is not UNSET:
            field_dict["note"] = note

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        team_id = UUID(d.pop("team_id"))

        def _parse_note(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        note = _parse_note(d.pop("note", UNSET))

        transfer_to_team = cls(
            team_id=team_id,
            note=note,
        )

        return transfer_to_team
