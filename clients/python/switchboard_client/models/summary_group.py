from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.quantiles import Quantiles


T = TypeVar("T", bound="SummaryGroup")


@_attrs_define
class SummaryGroup:
    """
    Attributes:
        key (None | str):
        label (str):
        conversations_opened (int):
        conversations_resolved (int):
        messages_in (int):
        messages_out (int):
        first_response_seconds (Quantiles):
        resolution_seconds (Quantiles):
        queue_wait_seconds (Quantiles):
        sla_attainment (float | None):
        csat_average (float | None):
        csat_responses (int):
    """

    key: None | str
    label: str
    conversations_opened: int
    conversations_resolved: int
    messages_in: int
    messages_out: int
    first_response_seconds: Quantiles
    resolution_seconds: Quantiles
    queue_wait_seconds: Quantiles
    sla_attainment: float | None
    csat_average: float | None
    csat_responses: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        key: None | str
        key = self.key

        label = self.label

        conversations_opened = self.conversations_opened

        conversations_resolved = self.conversations_resolved

        messages_in = self.messages_in

        messages_out = self.messages_out

        first_response_seconds = self.first_response_seconds.to_dict()

        resolution_seconds = self.resolution_seconds.to_dict()

        queue_wait_seconds = self.queue_wait_seconds.to_dict()

        sla_attainment: float | None
        sla_attainment = self.sla_attainment

        csat_average: float | None
        csat_average = self.csat_average

        csat_responses = self.csat_responses

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "key": key,
                "label": label,
                "conversations_opened": conversations_opened,
                "conversations_resolved": conversations_resolved,
                "messages_in": messages_in,
                "messages_out": messages_out,
                "first_response_seconds": first_response_seconds,
                "resolution_seconds": resolution_seconds,
                "queue_wait_seconds": queue_wait_seconds,
                "sla_attainment": sla_attainment,
                "csat_average": csat_average,
                "csat_responses": csat_responses,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.quantiles import Quantiles  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_key(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        key = _parse_key(d.pop("key"))

        label = d.pop("label")

        conversations_opened = d.pop("conversations_opened")

        conversations_resolved = d.pop("conversations_resolved")

        messages_in = d.pop("messages_in")

        messages_out = d.pop("messages_out")

        first_response_seconds = Quantiles.from_dict(d.pop("first_response_seconds"))

        resolution_seconds = Quantiles.from_dict(d.pop("resolution_seconds"))

        queue_wait_seconds = Quantiles.from_dict(d.pop("queue_wait_seconds"))

        def _parse_sla_attainment(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        sla_attainment = _parse_sla_attainment(d.pop("sla_attainment"))

        def _parse_csat_average(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        csat_average = _parse_csat_average(d.pop("csat_average"))

        csat_responses = d.pop("csat_responses")

        summary_group = cls(
            key=key,
            label=label,
            conversations_opened=conversations_opened,
            conversations_resolved=conversations_resolved,
            messages_in=messages_in,
            messages_out=messages_out,
            first_response_seconds=first_response_seconds,
            resolution_seconds=resolution_seconds,
            queue_wait_seconds=queue_wait_seconds,
            sla_attainment=sla_attainment,
            csat_average=csat_average,
            csat_responses=csat_responses,
        )

        summary_group.additional_properties = d
        return summary_group

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
