from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.messenger_settings import MessengerSettings


T = TypeVar("T", bound="MessengerInboxCreate")


@_attrs_define
class MessengerInboxCreate:
    """
    Attributes:
        name (str):
        channel (Literal['messenger']):
        settings (MessengerSettings):
    """

    name: str
    channel: Literal["messenger"]
    settings: MessengerSettings

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
        from ..models.messenger_settings import MessengerSettings  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        channel = cast(Literal["messenger"], d.pop("channel"))
        if channel != "messenger":
            raise ValueError(f"channel must match const 'messenger', got '{channel}'")

        settings = MessengerSettings.from_dict(d.pop("settings"))

        messenger_inbox_create = cls(
            name=name,
            channel=channel,
            settings=settings,
        )

        return messenger_inbox_create
