from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="QueueEntry")


@_attrs_define
class QueueEntry:
    """
    Attributes:
        position (int):
        conversation_id (UUID):
        inbox_id (UUID):
        contact_id (UUID):
        team_id (None | UUID):
        channel (str):
        priority (int):
        waiting_since (datetime.datetime):
        reason (None | str):
    """

    position: int
    conversation_id: UUID
    inbox_id: UUID
    contact_id: UUID
    team_id: None | UUID
    channel: str
    priority: int
    waiting_since: datetime.datetime
    reason: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        position = self.position

        conversation_id = str(self.conversation_id)

        inbox_id = str(self.inbox_id)

        contact_id = str(self.contact_id)

        team_id: None | str
        if isinstance(self.team_id, UUID):
            team_id = str(self.team_id)
        else:
            team_id = self.team_id

        channel = self.channel

        priority = self.priority

        waiting_since = self.waiting_since.isoformat()

        reason: None | str
        reason = self.reason

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "position": position,
                "conversation_id": conversation_id,
                "inbox_id": inbox_id,
                "contact_id": contact_id,
                "team_id": team_id,
                "channel": channel,
                "priority": priority,
                "waiting_since": waiting_since,
                "reason": reason,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        position = d.pop("position")

        conversation_id = UUID(d.pop("conversation_id"))

        inbox_id = UUID(d.pop("inbox_id"))

        contact_id = UUID(d.pop("contact_id"))

        def _parse_team_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                team_id_type_0 = UUID(data)

                return team_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        team_id = _parse_team_id(d.pop("team_id"))

        channel = d.pop("channel")

        priority = d.pop("priority")

        waiting_since = datetime.datetime.fromisoformat(d.pop("waiting_since"))

        def _parse_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reason = _parse_reason(d.pop("reason"))

        queue_entry = cls(
            position=position,
            conversation_id=conversation_id,
            inbox_id=inbox_id,
            contact_id=contact_id,
            team_id=team_id,
            channel=channel,
            priority=priority,
            waiting_since=waiting_since,
            reason=reason,
        )

        queue_entry.additional_properties = d
        return queue_entry

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
