from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.inbox_out_channel import InboxOutChannel, check_inbox_out_channel
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.inbox_out_settings import InboxOutSettings


T = TypeVar("T", bound="InboxOut")


@_attrs_define
class InboxOut:
    """
    Attributes:
        id (UUID):
        name (str):
        channel (InboxOutChannel):
        settings (InboxOutSettings):
        created_at (datetime.datetime):
        widget_token (None | str | Unset):
        secret (None | str | Unset):
    """

    id: UUID
    name: str
    channel: InboxOutChannel
    settings: InboxOutSettings
    created_at: datetime.datetime
    widget_token: None | str | Unset = UNSET
    secret: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        name = self.name

        channel: str = self.channel

        settings = self.settings.to_dict()

        created_at = self.created_at.isoformat()

        widget_token: None | str | Unset
        if isinstance(self.widget_token, Unset):
            widget_token = UNSET
        else:
            widget_token = self.widget_token

        secret: None | str | Unset
        if isinstance(self.secret, Unset):
            secret = UNSET
        else:
            secret = self.secret

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "channel": channel,
                "settings": settings,
                "created_at": created_at,
            }
        )
        if widget_token is not UNSET:
            field_dict["widget_token"] = widget_token
        if secret is not UNSET:
            field_dict["secret"] = secret

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.inbox_out_settings import InboxOutSettings  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        name = d.pop("name")

        channel = check_inbox_out_channel(d.pop("channel"))

        settings = InboxOutSettings.from_dict(d.pop("settings"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_widget_token(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        widget_token = _parse_widget_token(d.pop("widget_token", UNSET))

        def _parse_secret(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        secret = _parse_secret(d.pop("secret", UNSET))

        inbox_out = cls(
            id=id,
            name=name,
            channel=channel,
            settings=settings,
            created_at=created_at,
            widget_token=widget_token,
            secret=secret,
        )

        inbox_out.additional_properties = d
        return inbox_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
