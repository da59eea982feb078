from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="PolicyOut")


@_attrs_define
class PolicyOut:
    """
    Attributes:
        id (UUID):
        name (str):
        first_response_seconds (int | None):
        next_response_seconds (int | None):
        resolution_seconds (int | None):
        business_hours_only (bool):
        pause_statuses (list[str]):
        raise_priority (int):
        inbox_ids (list[UUID]):
        team_ids (list[UUID]):
        labels (list[str]):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
    """

    id: UUID
    name: str
    first_response_seconds: int | None
    next_response_seconds: int | None
    resolution_seconds: int | None
    business_hours_only: bool
    pause_statuses: list[str]
    raise_priority: int
    inbox_ids: list[UUID]
    team_ids: list[UUID]
    labels: list[str]
    created_at: datetime.datetime
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        name = self.name

        first_response_seconds: int | None
        first_response_seconds = self.first_response_seconds

        next_response_seconds: int | None
        next_response_seconds = self.next_response_seconds

        resolution_seconds: int | None
        resolution_seconds = self.resolution_seconds

        business_hours_only = self.business_hours_only

        pause_statuses = self.pause_statuses

        raise_priority = self.raise_priority

        inbox_ids = []
        for inbox_ids_item_data in self.inbox_ids:
            inbox_ids_item = str(inbox_ids_item_data)
            inbox_ids.append(inbox_ids_item)

        team_ids = []
        for team_ids_item_data in self.team_ids:
            team_ids_item = str(team_ids_item_data)
            team_ids.append(team_ids_item)

        labels = self.labels

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "first_response_seconds": first_response_seconds,
                "next_response_seconds": next_response_seconds,
                "resolution_seconds": resolution_seconds,
                "business_hours_only": business_hours_only,
                "pause_statuses": pause_statuses,
                "raise_priority": raise_priority,
                "inbox_ids": inbox_ids,
                "team_ids": team_ids,
                "labels": labels,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        name = d.pop("name")

        def _parse_first_response_seconds(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        first_response_seconds = _parse_first_response_seconds(d.pop("first_response_seconds"))

        def _parse_next_response_seconds(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        next_response_seconds = _parse_next_response_seconds(d.pop("next_response_seconds"))

        def _parse_resolution_seconds(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        resolution_seconds = _parse_resolution_seconds(d.pop("resolution_seconds"))

        business_hours_only = d.pop("business_hours_only")

        pause_statuses = cast(list[str], d.pop("pause_statuses"))

        raise_priority = d.pop("raise_priority")

        inbox_ids = []
        _inbox_ids = d.pop("inbox_ids")
        for inbox_ids_item_data in _inbox_ids:
            inbox_ids_item = UUID(inbox_ids_item_data)

            inbox_ids.append(inbox_ids_item)

        team_ids = []
        _team_ids = d.pop("team_ids")
        for team_ids_item_data in _team_ids:
            team_ids_item = UUID(team_ids_item_data)

            team_ids.append(team_ids_item)

        labels = cast(list[str], d.pop("labels"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        policy_out = cls(
            id=id,
            name=name,
            first_response_seconds=first_response_seconds,
            next_response_seconds=next_response_seconds,
            resolution_seconds=resolution_seconds,
            business_hours_only=business_hours_only,
            pause_statuses=pause_statuses,
            raise_priority=raise_priority,
            inbox_ids=inbox_ids,
            team_ids=team_ids,
            labels=labels,
            created_at=created_at,
            updated_at=updated_at,
        )

        policy_out.additional_properties = d
        return policy_out

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
