from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.inbox_routing_out_strategy import InboxRoutingOutStrategy, check_inbox_routing_out_strategy

if TYPE_CHECKING:
    from ..models.inbox_routing_out_business_hours_type_0 import InboxRoutingOutBusinessHoursType0


T = TypeVar("T", bound="InboxRoutingOut")


@_attrs_define
class InboxRoutingOut:
    """
    Attributes:
        strategy (InboxRoutingOutStrategy):
        team_id (None | UUID):
        required_skills (list[str]):
        preferred_skills (list[str]):
        offer_timeout_seconds (float):
        first_response_seconds (float):
        auto_resolve_seconds (float):
        escalation_seconds (float):
        sticky_window_seconds (float):
        business_hours (InboxRoutingOutBusinessHoursType0 | None):
        out_of_hours_message (str):
        labels (list[str]):
    """

    strategy: InboxRoutingOutStrategy
    team_id: None | UUID
    required_skills: list[str]
    preferred_skills: list[str]
    offer_timeout_seconds: float
    first_response_seconds: float
    auto_resolve_seconds: float
    escalation_seconds: float
    sticky_window_seconds: float
    business_hours: InboxRoutingOutBusinessHoursType0 | None
    out_of_hours_message: str
    labels: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.inbox_routing_out_business_hours_type_0 import InboxRoutingOutBusinessHoursType0  # noqa: PLC0415

        strategy: str = self.strategy

        team_id: None | str
        if isinstance(self.team_id, UUID):
            team_id = str(self.team_id)
        else:
            team_id = self.team_id

        required_skills = self.required_skills

        preferred_skills = self.preferred_skills

        offer_timeout_seconds = self.offer_timeout_seconds

        first_response_seconds = self.first_response_seconds

        auto_resolve_seconds = self.auto_resolve_seconds

        escalation_seconds = self.escalation_seconds

        sticky_window_seconds = self.sticky_window_seconds

        business_hours: dict[str, Any] | None
        if isinstance(self.business_hours, InboxRoutingOutBusinessHoursType0):
            business_hours = self.business_hours.to_dict()
        else:
            business_hours = self.business_hours

        out_of_hours_message = self.out_of_hours_message

        labels = self.labels

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "strategy": strategy,
                "team_id": team_id,
                "required_skills": required_skills,
                "preferred_skills": preferred_skills,
                "offer_timeout_seconds": offer_timeout_seconds,
                "first_response_seconds": first_response_seconds,
                "auto_resolve_seconds": auto_resolve_seconds,
                "escalation_seconds": escalation_seconds,
                "sticky_window_seconds": sticky_window_seconds,
                "business_hours": business_hours,
                "out_of_hours_message": out_of_hours_message,
                "labels": labels,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.inbox_routing_out_business_hours_type_0 import InboxRoutingOutBusinessHoursType0  # noqa: PLC0415

        d = dict(src_dict)
        strategy = check_inbox_routing_out_strategy(d.pop("strategy"))

        def _parse_team_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                team_id_type_0 = UUID(data)

                return team_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        team_id = _parse_team_id(d.pop("team_id"))

        required_skills = cast(list[str], d.pop("required_skills"))

        preferred_skills = cast(list[str], d.pop("preferred_skills"))

        offer_timeout_seconds = d.pop("offer_timeout_seconds")

        first_response_seconds = d.pop("first_response_seconds")

        auto_resolve_seconds = d.pop("auto_resolve_seconds")

        escalation_seconds = d.pop("escalation_seconds")

        sticky_window_seconds = d.pop("sticky_window_seconds")

        def _parse_business_hours(data: object) -> InboxRoutingOutBusinessHoursType0 | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                business_hours_type_0 = InboxRoutingOutBusinessHoursType0.from_dict(data)

                return business_hours_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(InboxRoutingOutBusinessHoursType0 | None, data)

        business_hours = _parse_business_hours(d.pop("business_hours"))

        out_of_hours_message = d.pop("out_of_hours_message")

        labels = cast(list[str], d.pop("labels"))

        inbox_routing_out = cls(
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

        inbox_routing_out.additional_properties = d
        return inbox_routing_out

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
