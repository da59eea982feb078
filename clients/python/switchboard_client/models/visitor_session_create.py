from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.consent_given import ConsentGiven


T = TypeVar("T", bound="VisitorSessionCreate")


@_attrs_define
class VisitorSessionCreate:
    """
    Attributes:
        widget_token (str):
        name (None | str | Unset):
        email (None | str | Unset):
        consent (ConsentGiven | None | Unset):
    """

    widget_token: str
    name: None | str | Unset = UNSET
    email: None | str | Unset = UNSET
    consent: ConsentGiven | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.consent_given import ConsentGiven  # noqa: PLC0415

        widget_token = self.widget_token

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        email: None | str | Unset
        if isinstance(self.email, Unset):
            email = UNSET
        else:
            email = self.email

        consent: dict[str, Any] | None | Unset
        if isinstance(self.consent, Unset):
            consent = UNSET
        elif isinstance(self.consent, ConsentGiven):
            consent = self.consent.to_dict()
        else:
            consent = self.consent

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "widget_token": widget_token,
            }
        )
        if name is not UNSET:
            field_dict["name"] = name
        if email is not UNSET:
            field_dict["email"] = email
        if consent is not UNSET:
            field_dict["consent"] = consent

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.consent_given import ConsentGiven  # noqa: PLC0415

        d = dict(src_dict)
        widget_token = d.pop("widget_token")

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        def _parse_email(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        email = _parse_email(d.pop("email", UNSET))

        def _parse_consent(data: object) -> ConsentGiven | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                consent_type_0 = ConsentGiven.from_dict(data)

                return consent_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ConsentGiven | None | Unset, data)

        consent = _parse_consent(d.pop("consent", UNSET))

        visitor_session_create = cls(
            widget_token=widget_token,
            name=name,
            email=email,
            consent=consent,
        )

        return visitor_session_create
