from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="MessengerSettings")


@_attrs_define
class MessengerSettings:
    """
    Attributes:
        page_id (str):
        page_access_token (str):
        pass_through (bool | Unset):  Default: False.
        slack_mirror_inbox_id (None | Unset | UUID):
        handover_target_app_id (None | str | Unset):
    """

    page_id: str
    page_access_token: str
    pass_through: bool | Unset = False
    slack_mirror_inbox_id: None | Unset | UUID = UNSET
    handover_target_app_id: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        page_id = self.page_id

        page_access_token = self.page_access_token

        pass_through = self.pass_through

        slack_mirror_inbox_id: None | str | Unset
        if isinstance(self.slack_mirror_inbox_id, Unset):
            slack_mirror_inbox_id = UNSET
        elif isinstance(self.slack_mirror_inbox_id, UUID):
            slack_mirror_inbox_id = str(self.slack_mirror_inbox_id)
        else:
            slack_mirror_inbox_id = self.slack_mirror_inbox_id

        handover_target_app_id: None | str | Unset
        if isinstance(self.handover_target_app_id, Unset):
            handover_target_app_id = UNSET
        else:
            handover_target_app_id = self.handover_target_app_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "page_id": page_id,
                "page_access_token": page_access_token,
            }
        )
        if pass_through is not UNSET:
            field_dict["pass_through"] = pass_through
        if slack_mirror_inbox_id is not UNSET:
            field_dict["slack_mirror_inbox_id"] = slack_mirror_inbox_id
        if handover_target_app_id is not UNSET:
            field_dict["handover_target_app_id"] = handover_target_app_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        page_id = d.pop("page_id")

        page_access_token = d.pop("page_access_token")

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

        def _parse_handover_target_app_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        handover_target_app_id = _parse_handover_target_app_id(d.pop("handover_target_app_id", UNSET))

        messenger_settings = cls(
            page_id=page_id,
            page_access_token=page_access_token,
            pass_through=pass_through,
            slack_mirror_inbox_id=slack_mirror_inbox_id,
            handover_target_app_id=handover_target_app_id,
        )

        return messenger_settings
