from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="SecurityPolicy")


@_attrs_define
class SecurityPolicy:
    """
    Attributes:
        require_2fa (bool):
    """

    require_2fa: bool

    def to_dict(self) -> dict[str, Any]:
        require_2fa = self.require_2fa

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "require_2fa": require_2fa,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        require_2fa = d.pop("require_2fa")

        security_policy = cls(
            require_2fa=require_2fa,
        )

        return security_policy
