from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.conversation_out_csat_type_0 import ConversationOutCsatType0
    from ..models.conversation_out_routing_explanation_type_0 import ConversationOutRoutingExplanationType0
    from ..models.conversation_out_sla_type_0 import ConversationOutSlaType0
    from ..models.last_message_out import LastMessageOut


T = TypeVar("T", bound="ConversationOut")


@_attrs_define
class ConversationOut:
    """
    Attributes:
        id (UUID):
        status (str):
        assignee_id (None | UUID):
        inbox_id (UUID):
        contact_id (UUID):
        channel (str):
        priority (int):
        created_at (datetime.datetime):
        last_message_at (datetime.datetime | None):
        queue_position (int | None | Unset):
        routing_explanation (ConversationOutRoutingExplanationType0 | None | Unset):
        queued_at (datetime.datetime | None | Unset):
        team_id (None | Unset | UUID):
        previous_conversation_id (None | Unset | UUID):
        contact_name (None | str | Unset):
        last_message (LastMessageOut | None | Unset):
        waiting_since (datetime.datetime | None | Unset):
        unread_count (int | None | Unset):
        labels (list[str] | Unset):
        sla (ConversationOutSlaType0 | None | Unset):
        csat (ConversationOutCsatType0 | None | Unset):
    """

    id: UUID
    status: str
    assignee_id: None | UUID
    inbox_id: UUID
    contact_id: UUID
    channel: str
    priority: int
    created_at: datetime.datetime
    last_message_at: datetime.datetime | None
    queue_position: int | None | Unset = UNSET
    routing_explanation: ConversationOutRoutingExplanationType0 | None | Unset = UNSET
    queued_at: datetime.datetime | None | Unset = UNSET
    team_id: None | Unset | UUID = UNSET
    previous_conversation_id: None | Unset | UUID = UNSET
    contact_name: None | str | Unset = UNSET
    last_message: LastMessageOut | None | Unset = UNSET
    waiting_since: datetime.datetime | None | Unset = UNSET
    unread_count: int | None | Unset = UNSET
    labels: list[str] | Unset = UNSET
    sla: ConversationOutSlaType0 | None | Unset = UNSET
    csat: ConversationOutCsatType0 | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.conversation_out_csat_type_0 import ConversationOutCsatType0  # noqa: PLC0415
        from ..models.conversation_out_routing_explanation_type_0 import ConversationOutRoutingExplanationType0  # noqa: PLC0415
        from ..models.conversation_out_sla_type_0 import ConversationOutSlaType0  # noqa: PLC0415
        from ..models.last_message_out import LastMessageOut  # noqa: PLC0415

        id = str(self.id)

        status = self.status

        assignee_id: None | str
        if isinstance(self.assignee_id, UUID):
            assignee_id = str(self.assignee_id)
        else:
            assignee_id = self.assignee_id

        inbox_id = str(self.inbox_id)

        contact_id = str(self.contact_id)

        channel = self.channel

        priority = self.priority

        created_at = self.created_at.isoformat()

        last_message_at: None | str
        if isinstance(self.last_message_at, datetime.datetime):
            last_message_at = self.last_message_at.isoformat()
        else:
            last_message_at = self.last_message_at

        queue_position: int | None | Unset
        if isinstance(self.queue_position, Unset):
            queue_position = UNSET
        else:
            queue_position = self.queue_position

        routing_explanation: dict[str, Any] | None | Unset
        if isinstance(self.routing_explanation, Unset):
            routing_explanation = UNSET
        elif isinstance(self.routing_explanation, ConversationOutRoutingExplanationType0):
            routing_explanation = self.routing_explanation.to_dict()
        else:
            routing_explanation = self.routing_explanation

        queued_at: None | str | Unset
        if isinstance(self.queued_at, Unset):
            queued_at = UNSET
        elif isinstance(self.queued_at, datetime.datetime):
            queued_at = self.queued_at.isoformat()
        else:
            queued_at = self.queued_at

        team_id: None | str | Unset
        if isinstance(self.team_id, Unset):
            team_id = UNSET
        elif isinstance(self.team_id, UUID):
            team_id = str(self.team_id)
        else:
            team_id = self.team_id

        previous_conversation_id: None | str | Unset
        if isinstance(self.previous_conversation_id, Unset):
            previous_conversation_id = UNSET
        elif isinstance(self.previous_conversation_id, UUID):
            previous_conversation_id = str(self.previous_conversation_id)
        else:
            previous_conversation_id = self.previous_conversation_id

        contact_name: None | str | Unset
        if isinstance(self.contact_name, Unset):
            contact_name = UNSET
        else:
            contact_name = self.contact_name

        last_message: dict[str, Any] | None | Unset
        if isinstance(self.last_message, Unset):
            last_message = UNSET
        elif isinstance(self.last_message, LastMessageOut):
            last_message = self.last_message.to_dict()
        else:
            last_message = self.last_message

        waiting_since: None | str | Unset
        if isinstance(self.waiting_since, Unset):
            waiting_since = UNSET
        elif isinstance(self.waiting_since, datetime.datetime):
            waiting_since = self.waiting_since.isoformat()
        else:
            waiting_since = self.waiting_since

        unread_count: int | None | Unset
        if isinstance(self.unread_count, Unset):
            unread_count = UNSET
        else:
            unread_count = self.unread_count

        labels: list[str] | Unset = UNSET
        if not isinstance(self.labels, Unset):
            labels = self.labels

        sla: dict[str, Any] | None | Unset
        if isinstance(self.sla, Unset):
            sla = UNSET
        elif isinstance(self.sla, ConversationOutSlaType0):
            sla = self.sla.to_dict()
        else:
            sla = self.sla

        csat: dict[str, Any] | None | Unset
        if isinstance(self.csat, Unset):
            csat = UNSET
        elif isinstance(self.csat, ConversationOutCsatType0):
            csat = self.csat.to_dict()
        else:
            csat = self.csat

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "status": status,
                "assignee_id": assignee_id,
                "inbox_id": inbox_id,
                "contact_id": contact_id,
                "channel": channel,
                "priority": priority,
                "created_at": created_at,
                "last_message_at": last_message_at,
            }
        )
        if queue_position is not UNSET:
            field_dict["queue_position"] = queue_position
        if routing_explanation is not UNSET:
            field_dict["routing_explanation"] = routing_explanation
        if queued_at is not UNSET:
            field_dict["queued_at"] = queued_at
        if team_id is not UNSET:
            field_dict["team_id"] = team_id
        if previous_conversation_id is not UNSET:
            field_dict["previous_conversation_id"] = previous_conversation_id
        if contact_name is not UNSET:
            field_dict["contact_name"] = contact_name
        if last_message is not UNSET:
            field_dict["last_message"] = last_message
        if waiting_since is not UNSET:
            field_dict["waiting_since"] = waiting_since
        if unread_count is not UNSET:
            field_dict["unread_count"] = unread_count
        if labels is not UNSET:
            field_dict["labels"] = labels
        if sla is not UNSET:
            field_dict["sla"] = sla
        if csat is not UNSET:
            field_dict["csat"] = csat

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.conversation_out_csat_type_0 import ConversationOutCsatType0  # noqa: PLC0415
        from ..models.conversation_out_routing_explanation_type_0 import ConversationOutRoutingExplanationType0  # noqa: PLC0415
        from ..models.conversation_out_sla_type_0 import ConversationOutSlaType0  # noqa: PLC0415
        from ..models.last_message_out import LastMessageOut  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

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

        inbox_id = UUID(d.pop("inbox_id"))

        contact_id = UUID(d.pop("contact_id"))

        channel = d.pop("channel")

        priority = d.pop("priority")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_last_message_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_message_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_message_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        last_message_at = _parse_last_message_at(d.pop("last_message_at"))

        def _parse_queue_position(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        queue_position = _parse_queue_position(d.pop("queue_position", UNSET))

        def _parse_routing_explanation(data: object) -> ConversationOutRoutingExplanationType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                routing_explanation_type_0 = ConversationOutRoutingExplanationType0.from_dict(data)

                return routing_explanation_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ConversationOutRoutingExplanationType0 | None | Unset, data)

        routing_explanation = _parse_routing_explanation(d.pop("routing_explanation", UNSET))

        def _parse_queued_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                queued_at_type_0 = datetime.datetime.fromisoformat(data)

                return queued_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        queued_at = _parse_queued_at(d.pop("queued_at", UNSET))

        def _parse_team_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                team_id_type_0 = UUID(data)

                return team_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        team_id = _parse_team_id(d.pop("team_id", UNSET))

        def _parse_previous_conversation_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                previous_conversation_id_type_0 = UUID(data)

                return previous_conversation_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        previous_conversation_id = _parse_previous_conversation_id(d.pop("previous_conversation_id", UNSET))

        def _parse_contact_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        contact_name = _parse_contact_name(d.pop("contact_name", UNSET))

        def _parse_last_message(data: object) -> LastMessageOut | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                last_message_type_0 = LastMessageOut.from_dict(data)

                return last_message_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(LastMessageOut | None | Unset, data)

        last_message = _parse_last_message(d.pop("last_message", UNSET))

        def _parse_waiting_since(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                waiting_since_type_0 = datetime.datetime.fromisoformat(data)

                return waiting_since_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        waiting_since = _parse_waiting_since(d.pop("waiting_since", UNSET))

        def _parse_unread_count(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        unread_count = _parse_unread_count(d.pop("unread_count", UNSET))

        labels = cast(list[str], d.pop("labels", UNSET))

        def _parse_sla(data: object) -> ConversationOutSlaType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                sla_type_0 = ConversationOutSlaType0.from_dict(data)

                return sla_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ConversationOutSlaType0 | None | Unset, data)

        sla = _parse_sla(d.pop("sla", UNSET))

        def _parse_csat(data: object) -> ConversationOutCsatType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                csat_type_0 = ConversationOutCsatType0.from_dict(data)

                return csat_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ConversationOutCsatType0 | None | Unset, data)

        csat = _parse_csat(d.pop("csat", UNSET))

        conversation_out = cls(
            id=id,
            status=status,
            assignee_id=assignee_id,
            inbox_id=inbox_id,
            contact_id=contact_id,
            channel=channel,
            priority=priority,
            created_at=created_at,
            last_message_at=last_message_at,
            queue_position=queue_position,
            routing_explanation=routing_explanation,
            queued_at=queued_at,
            team_id=team_id,
            previous_conversation_id=previous_conversation_id,
            contact_name=contact_name,
            last_message=last_message,
            waiting_since=waiting_since,
            unread_count=unread_count,
            labels=labels,
            sla=sla,
            csat=csat,
        )

        conversation_out.additional_properties = d
        return conversation_out

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
