from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.api_settings import ApiSettings


T = TypeVar("T", bound="ApiInboxCreate")


@_attrs_define
class ApiInboxCreate:
    """
    Attributes:
        name (str):
        channel (Literal['api']):
        settings (ApiSettings | Unset):
    """

    name: str
    channel: Literal["api"]
    settings: ApiSettings | Unset = UNSET

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
        from ..models.api_settings import ApiSettings  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        channel = cast(Literal["api"], d.pop("channel"))
        if channel != "api":
            raise ValueError(f"channel must match const 'api', got '{channel}'")

        _settings = d.pop("settings", UNSET)
        settings: ApiSettings | Unset
        if isinstance(_settings, Unset):
            settings = UNSET
        else:
            settings = ApiSettings.from_dict(_settings)

        api_inbox_create = cls(
            name=name,
            channel=channel,
            settings=settings,
        )

        return api_inbox_create
