from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="SlackSettingsUpdate")


@_attrs_define
class SlackSettingsUpdate:
    """Any of SlackSettings's fields; those left out keep their value.

    Attributes:
        pass_through (bool | Unset):
        team_id (str | Unset):
        channel_id (str | Unset):
        bot_token (str | Unset):
        bot_user_id (str | Unset):
    """

    pass_through: bool | Unset = UNSET
    team_id: str | Unset = UNSET
    channel_id: str | Unset = UNSET
    bot_token: str | Unset = UNSET
    bot_user_id: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        pass_through = self.pass_through

        team_id = self.team_id

        channel_id = self.channel_id

        bot_token = self.bot_token

        bot_user_id = self.bot_user_id

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if pass_through is not UNSET:
            field_dict["pass_through"] = pass_through
        if team_id is not UNSET:
            field_dict["team_id"] = team_id
        if channel_id is not UNSET:
            field_dict["channel_id"] = channel_id
        if bot_token is not UNSET:
            field_dict["bot_token"] = bot_token
        if bot_user_id is not UNSET:
            field_dict["bot_user_id"] = bot_user_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        pass_through = d.pop("pass_through", UNSET)

        team_id = d.pop("team_id", UNSET)

        channel_id = d.pop("channel_id", UNSET)

        bot_token = d.pop("bot_token", UNSET)

        bot_user_id = d.pop("bot_user_id", UNSET)

        slack_settings_update = cls(
            pass_through=pass_through,
            team_id=team_id,
            channel_id=channel_id,
            bot_token=bot_token,
            bot_user_id=bot_user_id,
        )

        return slack_settings_update
