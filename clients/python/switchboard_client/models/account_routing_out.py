from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.account_routing_out_channel_weights import AccountRoutingOutChannelWeights


T = TypeVar("T", bound="AccountRoutingOut")


@_attrs_define
class AccountRoutingOut:
    """
    Attributes:
        channel_weights (AccountRoutingOutChannelWeights):
        give_back_on_offline (bool):
        grace_seconds (float):
        default_max_conversations (int):
    """

    channel_weights: AccountRoutingOutChannelWeights
    give_back_on_offline: bool
    grace_seconds: float
    default_max_conversations: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        channel_weights = self.channel_weights.to_dict()

        give_back_on_offline = self.give_back_on_offline

        grace_seconds = self.grace_seconds

        default_max_conversations = self.default_max_conversations

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "channel_weights": channel_weights,
                "give_back_on_offline": give_back_on_offline,
                "grace_seconds": grace_seconds,
                "default_max_conversations": default_max_conversations,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.account_routing_out_channel_weights import AccountRoutingOutChannelWeights  # noqa: PLC0415

        d = dict(src_dict)
        channel_weights = AccountRoutingOutChannelWeights.from_dict(d.pop("channel_weights"))

        give_back_on_offline = d.pop("give_back_on_offline")

        grace_seconds = d.pop("grace_seconds")

        default_max_conversations = d.pop("default_max_conversations")

        account_routing_out = cls(
            channel_weights=channel_weights,
            give_back_on_offline=give_back_on_offline,
            grace_seconds=grace_seconds,
            default_max_conversations=default_max_conversations,
        )

        account_routing_out.additional_properties = d
        return account_routing_out

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
