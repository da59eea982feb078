from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.visibility_out_agents_see import VisibilityOutAgentsSee, check_visibility_out_agents_see

T = TypeVar("T", bound="VisibilityOut")


@_attrs_define
class VisibilityOut:
    """
    Attributes:
        agents_see (VisibilityOutAgentsSee):
    """

    agents_see: VisibilityOutAgentsSee
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        agents_see: str = self.agents_see

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "agents_see": agents_see,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        agents_see = check_visibility_out_agents_see(d.pop("agents_see"))

        visibility_out = cls(
            agents_see=agents_see,
        )

        visibility_out.additional_properties = d
        return visibility_out

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
