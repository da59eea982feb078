from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.account_routing_channel_weights import AccountRoutingChannelWeights


T = TypeVar("T", bound="AccountRouting")


@_attrs_define
class AccountRouting:
    """Fields left out keep their value.

    Attributes:
        channel_weights (AccountRoutingChannelWeights | Unset):
        give_back_on_offline (bool | Unset):
        grace_seconds (float | Unset):
        default_max_conversations (int | Unset):
    """

    channel_weights: AccountRoutingChannelWeights | Unset = UNSET
    give_back_on_offline: bool | Unset = UNSET
    grace_seconds: float | Unset = UNSET
    default_max_conversations: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        channel_weights: dict[str, Any] | Unset = UNSET
        if not isinstance(self.channel_weights, Unset):
            channel_weights = self.channel_weights.to_dict()

        give_back_on_offline = self.give_back_on_offline

        grace_seconds = self.grace_seconds

        default_max_conversations = self.default_max_conversations

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if channel_weights is not UNSET:
            field_dict["channel_weights"] = channel_weights
        if give_back_on_offline is not UNSET:
            field_dict["give_back_on_offline"] = give_back_on_offline
        if grace_seconds is not UNSET:
            field_dict["grace_seconds"] = grace_seconds
        if default_max_conversations is not UNSET:
            field_dict["default_max_conversations"] = default_max_conversations

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.account_routing_channel_weights import AccountRoutingChannelWeights  # noqa: PLC0415

        d = dict(src_dict)
        _channel_weights = d.pop("channel_weights", UNSET)
        channel_weights: AccountRoutingChannelWeights | Unset
        if isinstance(_channel_weights, Unset):
            channel_weights = UNSET
        else:
            channel_weights = AccountRoutingChannelWeights.from_dict(_channel_weights)

        give_back_on_offline = d.pop("give_back_on_offline", UNSET)

        grace_seconds = d.pop("grace_seconds", UNSET)

        default_max_conversations = d.pop("default_max_conversations", UNSET)

        account_routing = cls(
            channel_weights=channel_weights,
            give_back_on_offline=give_back_on_offline,
            grace_seconds=grace_seconds,
            default_max_conversations=default_max_conversations,
        )

        return account_routing
