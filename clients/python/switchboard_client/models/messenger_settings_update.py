from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="MessengerSettingsUpdate")


@_attrs_define
class MessengerSettingsUpdate:
    """Any of MessengerSettings's fields; those left out keep their value.

    Attributes:
        pass_through (bool | Unset):
        slack_mirror_inbox_id (None | Unset | UUID):
        page_id (str | Unset):
        page_access_token (str | Unset):
        handover_target_app_id (None | str | Unset):
    """

    pass_through: bool | Unset = UNSET
    slack_mirror_inbox_id: None | Unset | UUID = UNSET
    page_id: str | Unset = UNSET
    page_access_token: str | Unset = UNSET
    handover_target_app_id: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        pass_through = self.pass_through

        slack_mirror_inbox_id: None | str | Unset
        if isinstance(self.slack_mirror_inbox_id, Unset):
            slack_mirror_inbox_id = UNSET
        elif isinstance(self.slack_mirror_inbox_id, UUID):
            slack_mirror_inbox_id = str(self.slack_mirror_inbox_id)
        else:
            slack_mirror_inbox_id = self.slack_mirror_inbox_id

        page_id = self.page_id

        page_access_token = self.page_access_token

        handover_target_app_id: None | str | Unset
        if isinstance(self.handover_target_app_id, Unset):
            handover_target_app_id = UNSET
        else:
            handover_target_app_id = self.handover_target_app_id

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if pass_through is not UNSET:
            field_dict["pass_through"] = pass_through
        if slack_mirror_inbox_id is not UNSET:
            field_dict["slack_mirror_inbox_id"] = slack_mirror_inbox_id
        if page_id is not UNSET:
            field_dict["page_id"] = page_id
        if page_access_token is not UNSET:
            field_dict["page_access_token"] = page_access_token
        if handover_target_app_id is not UNSET:
            field_dict["handover_target_app_id"] = handover_target_app_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        pass_through = d.pop("pass_through", UNSET)

        def _parse_slack_mirror_inbox_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                slack_mirror_inbox_id_type_0 = UUID(data)

                return slack_mirror_inbox_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        slack_mirror_inbox_id = _parse_slack_mirror_inbox_id(d.pop("slack_mirror_inbox_id", UNSET))

        page_id = d.pop("page_id", UNSET)

        page_access_token = d.pop("page_access_token", UNSET)

        def _parse_handover_target_app_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        handover_target_app_id = _parse_handover_target_app_id(d.pop("handover_target_app_id", UNSET))

        messenger_settings_update = cls(
            pass_through=pass_through,
            slack_mirror_inbox_id=slack_mirror_inbox_id,
            page_id=page_id,
            page_access_token=page_access_token,
            handover_target_app_id=handover_target_app_id,
        )

        return messenger_settings_update
