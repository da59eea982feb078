from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.web_settings import WebSettings


T = TypeVar("T", bound="WebInboxCreate")


@_attrs_define
class WebInboxCreate:
    """
    Attributes:
        name (str):
        channel (Literal['web']):
        settings (WebSettings | Unset):
    """

    name: str
    channel: Literal["web"]
    settings: WebSettings | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        channel = self.channel

        settings: dict[str, Any] | Unset = UNSET
        if not isinstance(self.settings, Unset):
            settings = self.settings.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "channel": channel,
            }
        )
        if settings is not UNSET:
            field_dict["settings"] = settings

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.web_settings import WebSettings  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        channel = cast(Literal["web"], d.pop("channel"))
        if channel != "web":
            raise ValueError(f"channel must match const 'web', got '{channel}'")

        _settings = d.pop("settings", UNSET)
        settings: WebSettings | Unset
        if isinstance(_settings, Unset):
            settings = UNSET
        else:
            settings = WebSettings.from_dict(_settings)

        web_inbox_create = cls(
            name=name,
            channel=channel,
            settings=settings,
        )

        return web_inbox_create
