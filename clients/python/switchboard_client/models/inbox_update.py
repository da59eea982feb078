from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.api_settings_update import ApiSettingsUpdate
    from ..models.messenger_settings_update import MessengerSettingsUpdate
    from ..models.slack_settings_update import SlackSettingsUpdate
    from ..models.web_settings_update import WebSettingsUpdate


T = TypeVar("T", bound="InboxUpdate")


@_attrs_define
class InboxUpdate:
    """Fields left out keep their value. Settings are merged into the current ones and must be settings of the
    inbox's channel (else 409 settings_not_for_channel); secret fields replace the stored ones.

        Attributes:
            name (str | Unset):
            settings (ApiSettingsUpdate | MessengerSettingsUpdate | SlackSettingsUpdate | Unset | WebSettingsUpdate):
    """

    name: str | Unset = UNSET
    settings: ApiSettingsUpdate | MessengerSettingsUpdate | SlackSettingsUpdate | Unset | WebSettingsUpdate = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.messenger_settings_update import MessengerSettingsUpdate  # noqa: PLC0415
        from ..models.slack_settings_update import SlackSettingsUpdate  # noqa: PLC0415
        from ..models.web_settings_update import WebSettingsUpdate  # noqa: PLC0415

        name = self.name

        settings: dict[str, Any] | Unset
        if isinstance(self.settings, Unset):
            settings = UNSET
        elif isinstance(self.settings, WebSettingsUpdate):
            settings = self.settings.to_dict()
        elif isinstance(self.settings, SlackSettingsUpdate):
            settings = self.settings.to_dict()
        elif isinstance(self.settings, MessengerSettingsUpdate):
            settings = self.settings.to_dict()
        else:
            settings = self.settings.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if settings is not UNSET:
            field_dict["settings"] = settings

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.api_settings_update import ApiSettingsUpdate  # noqa: PLC0415
        from ..models.messenger_settings_update import MessengerSettingsUpdate  # noqa: PLC0415
        from ..models.slack_settings_update import SlackSettingsUpdate  # noqa: PLC0415
        from ..models.web_settings_update import WebSettingsUpdate  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name", UNSET)

        def _parse_settings(
            data: object,
        ) -> ApiSettingsUpdate | MessengerSettingsUpdate | SlackSettingsUpdate | Unset | WebSettingsUpdate:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                settings_type_0 = WebSettingsUpdate.from_dict(data)

                return settings_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                settings_type_1 = SlackSettingsUpdate.from_dict(data)

                return settings_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                settings_type_2 = MessengerSettingsUpdate.from_dict(data)

                return settings_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            settings_type_3 = ApiSettingsUpdate.from_dict(data)

            return settings_type_3

        settings = _parse_settings(d.pop("settings", UNSET))

        inbox_update = cls(
            name=name,
            settings=settings,
        )

        return inbox_update
