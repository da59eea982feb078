from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.security_event_out_details import SecurityEventOutDetails


T = TypeVar("T", bound="SecurityEventOut")


@_attrs_define
class SecurityEventOut:
    """
    Attributes:
        id (int):
        kind (str):
        user_id (None | UUID):
        ip_prefix (None | str):
        details (SecurityEventOutDetails):
        created_at (datetime.datetime):
    """

    id: int
    kind: str
    user_id: None | UUID
    ip_prefix: None | str
    details: SecurityEventOutDetails
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        kind = self.kind

        user_id: None | str
        if isinstance(self.user_id, UUID):
            user_id = str(self.user_id)
        else:
            user_id = self.user_id

        ip_prefix: None | str
        ip_prefix = self.ip_prefix

        details = self.details.to_dict()

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "kind": kind,
                "user_id": user_id,
                "ip_prefix": ip_prefix,
                "details": details,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.security_event_out_details import SecurityEventOutDetails  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        kind = d.pop("kind")

        def _parse_user_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                user_id_type_0 = UUID(data)

                return user_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        user_id = _parse_user_id(d.pop("user_id"))

        def _parse_ip_prefix(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        ip_prefix = _parse_ip_prefix(d.pop("ip_prefix"))

        details = SecurityEventOutDetails.from_dict(d.pop("details"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        security_event_out = cls(
            id=id,
            kind=kind,
            user_id=user_id,
            ip_prefix=ip_prefix,
            details=details,
            created_at=created_at,
        )

        security_event_out.additional_properties = d
        return security_event_out

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
