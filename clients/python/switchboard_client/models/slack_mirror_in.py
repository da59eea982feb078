from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

T = TypeVar("T", bound="SlackMirrorIn")


@_attrs_define
class SlackMirrorIn:
    """
    Attributes:
        slack_inbox_id (None | UUID):
    """

    slack_inbox_id: None | UUID

    def to_dict(self) -> dict[str, Any]:
        slack_inbox_id: None | str
        if isinstance(self.slack_inbox_id, UUID):
            slack_inbox_id = str(self.slack_inbox_id)
        else:
            slack_inbox_id = self.slack_inbox_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "slack_inbox_id": slack_inbox_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_slack_inbox_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                slack_inbox_id_type_0 = UUID(data)

                return slack_inbox_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        slack_inbox_id = _parse_slack_inbox_id(d.pop("slack_inbox_id"))

        slack_mirror_in = cls(
            slack_inbox_id=slack_inbox_id,
        )

        return slack_mirror_in
