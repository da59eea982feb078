from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="SignupRequest")


@_attrs_define
class SignupRequest:
    """
    Attributes:
        account_name (str):
        email (str):
        password (str):
        name (None | str | Unset):
        region (None | Unset): Where the account's data lives; null or left out: the default region.
    """

    account_name: str
    email: str
    password: str
    name: None | str | Unset = UNSET
    region: None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        account_name = self.account_name

        email = self.email

        password = self.password

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        region = self.region

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "account_name": account_name,
                "email": email,
                "password": password,
            }
        )
        if name is not UNSET:
            field_dict["name"] = name
        if region is not UNSET:
            field_dict["region"] = region

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        account_name = d.pop("account_name")

        email = d.pop("email")

        password = d.pop("password")

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        region = d.pop("region", UNSET)

        signup_request = cls(
            account_name=account_name,
            email=email,
            password=password,
            name=name,
            region=region,
        )

        return signup_request
