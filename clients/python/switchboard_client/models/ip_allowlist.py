from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="IpAllowlist")


@_attrs_define
class IpAllowlist:
    """Empty: no restriction. Addresses count as one-address networks; host bits of a network are dropped.

    Attributes:
        cidrs (list[str]):
    """

    cidrs: list[str]

    def to_dict(self) -> dict[str, Any]:
        cidrs = self.cidrs

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "cidrs": cidrs,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        cidrs = cast(list[str], d.pop("cidrs"))

        ip_allowlist = cls(
            cidrs=cidrs,
        )

        return ip_allowlist
