from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.subscription_update_events_item import SubscriptionUpdateEventsItem, check_subscription_update_events_item
from ..types import UNSET, Unset

T = TypeVar("T", bound="SubscriptionUpdate")


@_attrs_define
class SubscriptionUpdate:
    """Fields left out keep their value. Enabling again resets the failure count.

    Attributes:
        url (str | Unset):
        events (list[SubscriptionUpdateEventsItem] | Unset):
        enabled (bool | Unset):
    """

    url: str | Unset = UNSET
    events: list[SubscriptionUpdateEventsItem] | Unset = UNSET
    enabled: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        url = self.url

        events: list[str] | Unset = UNSET
        if not isinstance(self.events, Unset):
            events = []
            for events_item_data in self.events:
                events_item: str = events_item_data
                events.append(events_item)

        enabled = self.enabled

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if url is not UNSET:
            field_dict["url"] = url
        if events is not UNSET:
            field_dict["events"] = events
        if enabled is not UNSET:
            field_dict["enabled"] = enabled

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        url = d.pop("url", UNSET)

        _events = d.pop("events", UNSET)
        events: list[SubscriptionUpdateEventsItem] | Unset = UNSET
        if _events is not UNSET:
            events = []
            for events_item_data in _events:
                events_item = check_subscription_update_events_item(events_item_data)

                events.append(events_item)

        enabled = d.pop("enabled", UNSET)

        subscription_update = cls(
            url=url,
            events=events,
            enabled=enabled,
        )

        return subscription_update
