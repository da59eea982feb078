from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.visibility_in_agents_see import VisibilityInAgentsSee, check_visibility_in_agents_see

T = TypeVar("T", bound="VisibilityIn")


@_attrs_define
class VisibilityIn:
    """
    Attributes:
        agents_see (VisibilityInAgentsSee):
    """

    agents_see: VisibilityInAgentsSee

    def to_dict(self) -> dict[str, Any]:
        agents_see: str = self.agents_see

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "agents_see": agents_see,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        agents_see = check_visibility_in_agents_see(d.pop("agents_see"))

        visibility_in = cls(
            agents_see=agents_see,
        )

        return visibility_in
