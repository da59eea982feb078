from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..models.business_hours_timezone import BusinessHoursTimezone, check_business_hours_timezone
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.business_hours_weekly import BusinessHoursWeekly


T = TypeVar("T", bound="BusinessHours")


@_attrs_define
class BusinessHours:
    """Open hours per weekday in a time zone; a day left out is closed. ``["22:00", "06:00"]`` runs past
    midnight; ``["00:00", "00:00"]`` is the whole day (docs/routing.md).

        Attributes:
            timezone (BusinessHoursTimezone | Unset):  Default: 'UTC'.
            weekly (BusinessHoursWeekly | Unset):
    """

    timezone: BusinessHoursTimezone | Unset = "UTC"
    weekly: BusinessHoursWeekly | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        timezone: str | Unset = UNSET
        if not isinstance(self.timezone, Unset):
            timezone = self.timezone

        weekly: dict[str, Any] | Unset = UNSET
        if not isinstance(self.weekly, Unset):
            weekly = self.weekly.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if timezone is not UNSET:
            field_dict["timezone"] = timezone
        if weekly is not UNSET:
            field_dict["weekly"] = weekly

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.business_hours_weekly import BusinessHoursWeekly  # noqa: PLC0415

        d = dict(src_dict)
        _timezone = d.pop("timezone", UNSET)
        timezone: BusinessHoursTimezone | Unset
        if isinstance(_timezone, Unset):
            timezone = UNSET
        else:
            timezone = check_business_hours_timezone(_timezone)

        _weekly = d.pop("weekly", UNSET)
        weekly: BusinessHoursWeekly | Unset
        if isinstance(_weekly, Unset):
            weekly = UNSET
        else:
            weekly = BusinessHoursWeekly.from_dict(_weekly)

        business_hours = cls(
            timezone=timezone,
            weekly=weekly,
        )

        return business_hours
