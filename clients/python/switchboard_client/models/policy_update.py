from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.policy_update_pause_statuses_item import (
    PolicyUpdatePauseStatusesItem,
    check_policy_update_pause_statuses_item,
)
from ..types import UNSET, Unset

T = TypeVar("T", bound="PolicyUpdate")


@_attrs_define
class PolicyUpdate:
    """Fields given replace the stored ones (a target's null clears it; a policy keeps at least one, else 409);
    targets given as lists replace what the policy applies to; fields left out keep their value.

        Attributes:
            name (str | Unset):
            first_response_seconds (int | None | Unset):
            next_response_seconds (int | None | Unset):
            resolution_seconds (int | None | Unset):
            business_hours_only (bool | Unset):
            pause_statuses (list[PolicyUpdatePauseStatusesItem] | Unset):
            raise_priority (int | Unset):
            inbox_ids (list[UUID] | Unset):
            team_ids (list[UUID] | Unset):
            labels (list[str] | Unset):
    """

    name: str | Unset = UNSET
    first_response_seconds: int | None | Unset = UNSET
    next_response_seconds: int | None | Unset = UNSET
    resolution_seconds: int | None | Unset = UNSET
    business_hours_only: bool | Unset = UNSET
    pause_statuses: list[PolicyUpdatePauseStatusesItem] | Unset = UNSET
    raise_priority: int | Unset = UNSET
    inbox_ids: list[UUID] | Unset = UNSET
    team_ids: list[UUID] | Unset = UNSET
    labels: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        first_response_seconds: int | None | Unset
        if isinstance(self.first_response_seconds, Unset):
            first_response_seconds = UNSET
        else:
            first_response_seconds = self.first_response_seconds

        next_response_seconds: int | None | Unset
        if isinstance(self.next_response_seconds, Unset):
            next_response_seconds = UNSET
        else:
            next_response_seconds = self.next_response_seconds

        resolution_seconds: int | None | Unset
        if isinstance(self.resolution_seconds, Unset):
            resolution_seconds = UNSET
        else:
            resolution_seconds = self.resolution_seconds

        business_hours_only = self.business_hours_only

        pause_statuses: list[str] | Unset = UNSET
        if not isinstance(self.pause_statuses, Unset):
            pause_statuses = []
            for pause_statuses_item_data in self.pause_statuses:
                pause_statuses_item: str = pause_statuses_item_data
                pause_statuses.append(pause_statuses_item)

        raise_priority = self.raise_priority

        inbox_ids: list[str] | Unset = UNSET
        if not isinstance(self.inbox_ids, Unset):
            inbox_ids = []
            for inbox_ids_item_data in self.inbox_ids:
                inbox_ids_item = str(inbox_ids_item_data)
                inbox_ids.append(inbox_ids_item)

        team_ids: list[str] | Unset = UNSET
        if not isinstance(self.team_ids, Unset):
            team_ids = []
            for team_ids_item_data in self.team_ids:
                team_ids_item = str(team_ids_item_data)
                team_ids.append(team_ids_item)

        labels: list[str] | Unset = UNSET
        if not isinstance(self.labels, Unset):
            labels = self.labels

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if first_response_seconds is not UNSET:
            field_dict["first_response_seconds"] = first_response_seconds
        if next_response_seconds is not UNSET:
            field_dict["next_response_seconds"] = next_response_seconds
        if resolution_seconds is not UNSET:
            field_dict["resolution_seconds"] = resolution_seconds
        if business_hours_only is not UNSET:
            field_dict["business_hours_only"] = business_hours_only
        if pause_statuses is not UNSET:
            field_dict["pause_statuses"] = pause_statuses
        if raise_priority is not UNSET:
            field_dict["raise_priority"] = raise_priority
        if inbox_ids is not UNSET:
            field_dict["inbox_ids"] = inbox_ids
        if team_ids is not UNSET:
            field_dict["team_ids"] = team_ids
        if labels is not UNSET:
            field_dict["labels"] = labels

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name", UNSET)

        def _parse_first_response_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        first_response_seconds = _parse_first_response_seconds(d.pop("first_response_seconds", UNSET))

        def _parse_next_response_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        next_response_seconds = _parse_next_response_seconds(d.pop("next_response_seconds", UNSET))

        def _parse_resolution_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        resolution_seconds = _parse_resolution_seconds(d.pop("resolution_seconds", UNSET))

        business_hours_only = d.pop("business_hours_only", UNSET)

        _pause_statuses = d.pop("pause_statuses", UNSET)
        pause_statuses: list[PolicyUpdatePauseStatusesItem] | Unset = UNSET
        if _pause_statuses is not UNSET:
            pause_statuses = []
            for pause_statuses_item_data in _pause_statuses:
                pause_statuses_item = check_policy_update_pause_statuses_item(pause_statuses_item_data)

                pause_statuses.append(pause_statuses_item)

        raise_priority = d.pop("raise_priority", UNSET)

        _inbox_ids = d.pop("inbox_ids", UNSET)
        inbox_ids: list[UUID] | Unset = UNSET
        if _inbox_ids is not UNSET:
            inbox_ids = []
            for inbox_ids_item_data in _inbox_ids:
                inbox_ids_item = UUID(inbox_ids_item_data)

                inbox_ids.append(inbox_ids_item)

        _team_ids = d.pop("team_ids", UNSET)
        team_ids: list[UUID] | Unset = UNSET
        if _team_ids is not UNSET:
            team_ids = []
            for team_ids_item_data in _team_ids:
                team_ids_item = UUID(team_ids_item_data)

                team_ids.append(team_ids_item)

        labels = cast(list[str], d.pop("labels", UNSET))

        policy_update = cls(
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
        )

        return policy_update
