from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.slack_settings import SlackSettings


T = TypeVar("T", bound="SlackInboxCreate")


@_attrs_define
class SlackInboxCreate:
    """
    Attributes:
        name (str):
        channel (Literal['slack']):
        settings (SlackSettings):
    """

    name: str
    channel: Literal["slack"]
    settings: SlackSettings

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        channel = self.channel

        settings = self.settings.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "channel": channel,
                "settings": settings,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.slack_settings import SlackSettings  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        channel = cast(Literal["slack"], d.pop("channel"))
        if channel != "slack":
            raise ValueError(f"channel must match const 'slack', got '{channel}'")

        settings = SlackSettings.from_dict(d.pop("settings"))

        slack_inbox_create = cls(
            name=name,
            channel=channel,
            settings=settings,
        )

        return slack_inbox_create
