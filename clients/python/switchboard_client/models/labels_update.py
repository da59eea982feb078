from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="LabelsUpdate")


@_attrs_define
class LabelsUpdate:
    """
    Attributes:
        labels (list[str]):
    """

    labels: list[str]

    def to_dict(self) -> dict[str, Any]:
        labels = self.labels

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "labels": labels,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        labels = cast(list[str], d.pop("labels"))

        labels_update = cls(
            labels=labels,
        )

        return labels_update
