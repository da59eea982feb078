from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="SlackSettings")


@_attrs_define
class SlackSettings:
    """
    Attributes:
        team_id (str):
        channel_id (str):
        bot_token (str):
        bot_user_id (str):
        pass_through (bool | Unset):  Default: False.
    """

    team_id: str
    channel_id: str
    bot_token: str
    bot_user_id: str
    pass_through: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        team_id = self.team_id

        channel_id = self.channel_id

        bot_token = self.bot_token

        bot_user_id = self.bot_user_id

        pass_through = self.pass_through

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "team_id": team_id,
                "channel_id": channel_id,
                "bot_token": bot_token,
                "bot_user_id": bot_user_id,
            }
        )
        if pass_through is not UNSET:
            field_dict["pass_through"] = pass_through

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        team_id = d.pop("team_id")

        channel_id = d.pop("channel_id")

        bot_token = d.pop("bot_token")

        bot_user_id = d.pop("bot_user_id")

        pass_through = d.pop("pass_through", UNSET)

        slack_settings = cls(
            team_id=team_id,
            channel_id=channel_id,
            bot_token=bot_token,
            bot_user_id=bot_user_id,
            pass_through=pass_through,
        )

        return slack_settings
