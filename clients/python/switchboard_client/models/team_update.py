from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.team_update_strategy_type_0 import TeamUpdateStrategyType0, check_team_update_strategy_type_0
from ..types import UNSET, Unset

T = TypeVar("T", bound="TeamUpdate")


@_attrs_define
class TeamUpdate:
    """Fields left out keep their value; strategy null goes back to the inbox's or account's strategy.

    Attributes:
        name (str | Unset):
        strategy (None | TeamUpdateStrategyType0 | Unset):
    """

    name: str | Unset = UNSET
    strategy: None | TeamUpdateStrategyType0 | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        strategy: None | str | Unset
        if isinstance(self.strategy, Unset):
            strategy = UNSET
        elif isinstance(self.strategy, str):
            strategy = self.strategy
        else:
            strategy = self.strategy

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if strategy is not UNSET:
            field_dict["strategy"] = strategy

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name", UNSET)

        def _parse_strategy(data: object) -> None | TeamUpdateStrategyType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                strategy_type_0 = check_team_update_strategy_type_0(data)

                return strategy_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TeamUpdateStrategyType0 | Unset, data)

        strategy = _parse_strategy(d.pop("strategy", UNSET))

        team_update = cls(
            name=name,
            strategy=strategy,
        )

        return team_update
