from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.inbox_routing_strategy import InboxRoutingStrategy, check_inbox_routing_strategy
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.business_hours import BusinessHours


T = TypeVar("T", bound="InboxRouting")


@_attrs_define
class InboxRouting:
    """Fields left out keep their value (see docs/routing.md for defaults); team_id and business_hours take
    null (no team; always open).

        Attributes:
            strategy (InboxRoutingStrategy | Unset):
            team_id (None | Unset | UUID):
            required_skills (list[str] | Unset):
            preferred_skills (list[str] | Unset):
            offer_timeout_seconds (float | Unset):
            first_response_seconds (float | Unset):
            auto_resolve_seconds (float | Unset):
            escalation_seconds (float | Unset):
            sticky_window_seconds (float | Unset):
            business_hours (BusinessHours | None | Unset):
            out_of_hours_message (str | Unset):
            labels (list[str] | Unset):
    """

    strategy: InboxRoutingStrategy | Unset = UNSET
    team_id: None | Unset | UUID = UNSET
    required_skills: list[str] | Unset = UNSET
    preferred_skills: list[str] | Unset = UNSET
    offer_timeout_seconds: float | Unset = UNSET
    first_response_seconds: float | Unset = UNSET
    auto_resolve_seconds: float | Unset = UNSET
    escalation_seconds: float | Unset = UNSET
    sticky_window_seconds: float | Unset = UNSET
    business_hours: BusinessHours | None | Unset = UNSET
    out_of_hours_message: str | Unset = UNSET
    labels: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.business_hours import BusinessHours  # noqa: PLC0415

        strategy: str | Unset = UNSET
        if not isinstance(self.strategy, Unset):
            strategy = self.strategy

        team_id: None | str | Unset
        if isinstance(self.team_id, Unset):
            team_id = UNSET
        elif isinstance(self.team_id, UUID):
            team_id = str(self.team_id)
        else:
            team_id = self.team_id

        required_skills: list[str] | Unset = UNSET
        if not isinstance(self.required_skills, Unset):
            required_skills = self.required_skills

        preferred_skills: list[str] | Unset = UNSET
        if not isinstance(self.preferred_skills, Unset):
            preferred_skills = self.preferred_skills

        offer_timeout_seconds = self.offer_timeout_seconds

        first_response_seconds = self.first_response_seconds

        auto_resolve_seconds = self.auto_resolve_seconds

        escalation_seconds = self.escalation_seconds

        sticky_window_seconds = self.sticky_window_seconds

        business_hours: dict[str, Any] | None | Unset
        if isinstance(self.business_hours, Unset):
            business_hours = UNSET
        elif isinstance(self.business_hours, BusinessHours):
            business_hours = self.business_hours.to_dict()
        else:
            business_hours = self.business_hours

        out_of_hours_message = self.out_of_hours_message

        labels: list[str] | Unset = UNSET
        if not isinstance(self.labels, Unset):
            labels = self.labels

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if strategy is not UNSET:
            field_dict["strategy"] = strategy
        if team_id is not UNSET:
            field_dict["team_id"] = team_id
        if required_skills is not UNSET:
            field_dict["required_skills"] = required_skills
        if preferred_skills is not UNSET:
            field_dict["preferred_skills"] = preferred_skills
        if offer_timeout_seconds is not UNSET:
            field_dict["offer_timeout_seconds"] = offer_timeout_seconds
        if first_response_seconds is not UNSET:
            field_dict["first_response_seconds"] = first_response_seconds
        if auto_resolve_seconds is not UNSET:
            field_dict["auto_resolve_seconds"] = auto_resolve_seconds
        if escalation_seconds is not UNSET:
            field_dict["escalation_seconds"] = escalation_seconds
        if sticky_window_seconds is not UNSET:
            field_dict["sticky_window_seconds"] = sticky_window_seconds
        if business_hours is not UNSET:
            field_dict["business_hours"] = business_hours
        if out_of_hours_message is not UNSET:
            field_dict["out_of_hours_message"] = out_of_hours_message
        if labels is not UNSET:
            field_dict["labels"] = labels

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.business_hours import BusinessHours  # noqa: PLC0415

        d = dict(src_dict)
        _strategy = d.pop("strategy", UNSET)
        strategy: InboxRoutingStrategy | Unset
        if isinstance(_strategy, Unset):
            strategy = UNSET
        else:
            strategy = check_inbox_routing_strategy(_strategy)

        def _parse_team_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                team_id_type_0 = UUID(data)

                return team_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        team_id = _parse_team_id(d.pop("team_id", UNSET))

        required_skills = cast(list[str], d.pop("required_skills", UNSET))

        preferred_skills = cast(list[str], d.pop("preferred_skills", UNSET))

        offer_timeout_seconds = d.pop("offer_timeout_seconds", UNSET)

        first_response_seconds = d.pop("first_response_seconds", UNSET)

        auto_resolve_seconds = d.pop("auto_resolve_seconds", UNSET)

        escalation_seconds = d.pop("escalation_seconds", UNSET)

        sticky_window_seconds = d.pop("sticky_window_seconds", UNSET)

        def _parse_business_hours(data: object) -> BusinessHours | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                business_hours_type_0 = BusinessHours.from_dict(data)

                return business_hours_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BusinessHours | None | Unset, data)

        business_hours = _parse_business_hours(d.pop("business_hours", UNSET))

        out_of_hours_message = d.pop("out_of_hours_message", UNSET)

        labels = cast(list[str], d.pop("labels", UNSET))

        inbox_routing = cls(
            strategy=strategy,
            team_id=team_id,
            required_skills=required_skills,
            preferred_skills=preferred_skills,
            offer_timeout_seconds=offer_timeout_seconds,
            first_response_seconds=first_response_seconds,
            auto_resolve_seconds=auto_resolve_seconds,
            escalation_seconds=escalation_seconds,
            sticky_window_seconds=sticky_window_seconds,
            business_hours=business_hours,
            out_of_hours_message=out_of_hours_message,
            labels=labels,
        )

        return inbox_routing
