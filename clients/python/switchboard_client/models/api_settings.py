from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ApiSettings")


@_attrs_define
class ApiSettings:
    """
    Attributes:
        pass_through (bool | Unset):  Default: False.
        callback_url (None | str | Unset):
    """

    pass_through: bool | Unset = False
    callback_url: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        pass_through = self.pass_through

        callback_url: None | str | Unset
        if isinstance(self.callback_url, Unset):
            callback_url = UNSET
        else:
            callback_url = self.callback_url

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if pass_through is not UNSET:
            field_dict["pass_through"] = pass_through
        if callback_url is not UNSET:
            field_dict["callback_url"] = callback_url

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        pass_through = d.pop("pass_through", UNSET)

        def _parse_callback_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        callback_url = _parse_callback_url(d.pop("callback_url", UNSET))

        api_settings = cls(
            pass_through=pass_through,
            callback_url=callback_url,
        )

        return api_settings
