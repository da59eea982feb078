from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="MessageHit")


@_attrs_define
class MessageHit:
    """
    Attributes:
        message_id (UUID):
        conversation_id (UUID):
        contact_id (UUID):
        contact_name (None | str):
        inbox_id (UUID):
        channel (str):
        status (str):
        assignee_id (None | UUID):
        direction (str):
        sender_type (str):
        sender_id (None | UUID):
        private (bool):
        language (None | str):
        created_at (datetime.datetime):
        rank (float):
        highlight (str):
        snippet (str):
    """

    message_id: UUID
    conversation_id: UUID
    contact_id: UUID
    contact_name: None | str
    inbox_id: UUID
    channel: str
    status: str
    assignee_id: None | UUID
    direction: str
    sender_type: str
    sender_id: None | UUID
    private: bool
    language: None | str
    created_at: datetime.datetime
    rank: float
    highlight: str
    snippet: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        message_id = str(self.message_id)

        conversation_id = str(self.conversation_id)

        contact_id = str(self.contact_id)

        contact_name: None | str
        contact_name = self.contact_name

        inbox_id = str(self.inbox_id)

        channel = self.channel

        status = self.status

        assignee_id: None | str
        if isinstance(self.assignee_id, UUID):
            assignee_id = str(self.assignee_id)
        else:
            assignee_id = self.assignee_id

        direction = self.direction

        sender_type = self.sender_type

        sender_id: None | str
        if isinstance(self.sender_id, UUID):
            sender_id = str(self.sender_id)
        else:
            sender_id = self.sender_id

        private = self.private

        language: None | str
        language = self.language

        created_at = self.created_at.isoformat()

        rank = self.rank

        highlight = self.highlight

        snippet = self.snippet

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "message_id": message_id,
                "conversation_id": conversation_id,
                "contact_id": contact_id,
                "contact_name": contact_name,
                "inbox_id": inbox_id,
                "channel": channel,
                "status": status,
                "assignee_id": assignee_id,
                "direction": direction,
                "sender_type": sender_type,
                "sender_id": sender_id,
                "private": private,
                "language": language,
                "created_at": created_at,
                "rank": rank,
                "highlight": highlight,
                "snippet": snippet,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        message_id = UUID(d.pop("message_id"))

        conversation_id = UUID(d.pop("conversation_id"))

        contact_id = UUID(d.pop("contact_id"))

        def _parse_contact_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        contact_name = _parse_contact_name(d.pop("contact_name"))

        inbox_id = UUID(d.pop("inbox_id"))

        channel = d.pop("channel")

        status = d.pop("status")

        def _parse_assignee_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                assignee_id_type_0 = UUID(data)

                return assignee_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        assignee_id = _parse_assignee_id(d.pop("assignee_id"))

        direction = d.pop("direction")

        sender_type = d.pop("sender_type")

        def _parse_sender_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                sender_id_type_0 = UUID(data)

                return sender_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        sender_id = _parse_sender_id(d.pop("sender_id"))

        private = d.pop("private")

        def _parse_language(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        language = _parse_language(d.pop("language"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        rank = d.pop("rank")

        highlight = d.pop("highlight")

        snippet = d.pop("snippet")

        message_hit = cls(
            message_id=message_id,
            conversation_id=conversation_id,
            contact_id=contact_id,
            contact_name=contact_name,
            inbox_id=inbox_id,
            channel=channel,
            status=status,
            assignee_id=assignee_id,
            direction=direction,
            sender_type=sender_type,
            sender_id=sender_id,
            private=private,
            language=language,
            created_at=created_at,
            rank=rank,
            highlight=highlight,
            snippet=snippet,
        )

        message_hit.additional_properties = d
        return message_hit

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
