from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.time_zone_setting_timezone import TimeZoneSettingTimezone, check_time_zone_setting_timezone

T = TypeVar("T", bound="TimeZoneSetting")


@_attrs_define
class TimeZoneSetting:
    """
    Attributes:
        timezone (TimeZoneSettingTimezone): an IANA time zone, e.g. Europe/Athens
    """

    timezone: TimeZoneSettingTimezone

    def to_dict(self) -> dict[str, Any]:
        timezone: str = self.timezone

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "timezone": timezone,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        timezone = check_time_zone_setting_timezone(d.pop("timezone"))

        time_zone_setting = cls(
            timezone=timezone,
        )

        return time_zone_setting
