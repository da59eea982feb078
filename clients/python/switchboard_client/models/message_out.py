from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.message_out_direction import MessageOutDirection, check_message_out_direction
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.message_out_attachments_item import MessageOutAttachmentsItem


T = TypeVar("T", bound="MessageOut")


@_attrs_define
class MessageOut:
    """
    Attributes:
        id (UUID):
        conversation_id (UUID):
        direction (MessageOutDirection):
        sender_type (str):
        sender_id (None | UUID):
        text (None | str):
        attachments (list[MessageOutAttachmentsItem]):
        delivery_status (None | str):
        delivery_error (None | str):
        created_at (datetime.datetime):
        private (bool | Unset):  Default: False.
        mentions (list[UUID] | Unset):
    """

    id: UUID
    conversation_id: UUID
    direction: MessageOutDirection
    sender_type: str
    sender_id: None | UUID
    text: None | str
    attachments: list[MessageOutAttachmentsItem]
    delivery_status: None | str
    delivery_error: None | str
    created_at: datetime.datetime
    private: bool | Unset = False
    mentions: list[UUID] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        conversation_id = str(self.conversation_id)

        direction: str = self.direction

        sender_type = self.sender_type

        sender_id: None | str
        if isinstance(self.sender_id, UUID):
            sender_id = str(self.sender_id)
        else:
            sender_id = self.sender_id

        text: None | str
        text = self.text

        attachments = []
        for attachments_item_data in self.attachments:
            attachments_item = attachments_item_data.to_dict()
            attachments.append(attachments_item)

        delivery_status: None | str
        delivery_status = self.delivery_status

        delivery_error: None | str
        delivery_error = self.delivery_error

        created_at = self.created_at.isoformat()

        private = self.private

        mentions: list[str] | Unset = UNSET
        if not isinstance(self.mentions, Unset):
            mentions = []
            for mentions_item_data in self.mentions:
                mentions_item = str(mentions_item_data)
                mentions.append(mentions_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "conversation_id": conversation_id,
                "direction": direction,
                "sender_type": sender_type,
                "sender_id": sender_id,
                "text": text,
                "attachments": attachments,
                "delivery_status": delivery_status,
                "delivery_error": delivery_error,
                "created_at": created_at,
            }
        )
        if private is not UNSET:
            field_dict["private"] = private
        if mentions is not UNSET:
            field_dict["mentions"] = mentions

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.message_out_attachments_item import MessageOutAttachmentsItem  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        conversation_id = UUID(d.pop("conversation_id"))

        direction = check_message_out_direction(d.pop("direction"))

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

        def _parse_text(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        text = _parse_text(d.pop("text"))

        attachments = []
        _attachments = d.pop("attachments")
        for attachments_item_data in _attachments:
            attachments_item = MessageOutAttachmentsItem.from_dict(attachments_item_data)

            attachments.append(attachments_item)

        def _parse_delivery_status(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        delivery_status = _parse_delivery_status(d.pop("delivery_status"))

        def _parse_delivery_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        delivery_error = _parse_delivery_error(d.pop("delivery_error"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        private = d.pop("private", UNSET)

        _mentions = d.pop("mentions", UNSET)
        mentions: list[UUID] | Unset = UNSET
        if _mentions is not UNSET:
            mentions = []
            for mentions_item_data in _mentions:
                mentions_item = UUID(mentions_item_data)

                mentions.append(mentions_item)

        message_out = cls(
            id=id,
            conversation_id=conversation_id,
            direction=direction,
            sender_type=sender_type,
            sender_id=sender_id,
            text=text,
            attachments=attachments,
            delivery_status=delivery_status,
            delivery_error=delivery_error,
            created_at=created_at,
            private=private,
            mentions=mentions,
        )

        message_out.additional_properties = d
        return message_out

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
