from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.widget_config_translations import WidgetConfigTranslations


T = TypeVar("T", bound="WidgetConfig")


@_attrs_define
class WidgetConfig:
    """
    Attributes:
        inbox_name (str):
        language (None | str):
        greeting (None | str):
        consent_required (bool):
        consent_text (None | str):
        translations (WidgetConfigTranslations):
        display_name (None | str | Unset):
        consent_version (str | Unset):  Default: '1'.
    """

    inbox_name: str
    language: None | str
    greeting: None | str
    consent_required: bool
    consent_text: None | str
    translations: WidgetConfigTranslations
    display_name: None | str | Unset = UNSET
    consent_version: str | Unset = "1"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        inbox_name = self.inbox_name

        language: None | str
        language = self.language

        greeting: None | str
        greeting = self.greeting

        consent_required = self.consent_required

        consent_text: None | str
        consent_text = self.consent_text

        translations = self.translations.to_dict()

        display_name: None | str | Unset
        if isinstance(self.display_name, Unset):
            display_name = UNSET
        else:
            display_name = self.display_name

        consent_version = self.consent_version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "inbox_name": inbox_name,
                "language": language,
                "greeting": greeting,
                "consent_required": consent_required,
                "consent_text": consent_text,
                "translations": translations,
            }
        )
        if display_name is not UNSET:
            field_dict["display_name"] = display_name
        if consent_version is not UNSET:
            field_dict["consent_version"] = consent_version

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.widget_config_translations import WidgetConfigTranslations  # noqa: PLC0415

        d = dict(src_dict)
        inbox_name = d.pop("inbox_name")

        def _parse_language(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        language = _parse_language(d.pop("language"))

        def _parse_greeting(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        greeting = _parse_greeting(d.pop("greeting"))

        consent_required = d.pop("consent_required")

        def _parse_consent_text(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        consent_text = _parse_consent_text(d.pop("consent_text"))

        translations = WidgetConfigTranslations.from_dict(d.pop("translations"))

        def _parse_display_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        display_name = _parse_display_name(d.pop("display_name", UNSET))

        consent_version = d.pop("consent_version", UNSET)

        widget_config = cls(
            inbox_name=inbox_name,
            language=language,
            greeting=greeting,
            consent_required=consent_required,
            consent_text=consent_text,
            translations=translations,
            display_name=display_name,
            consent_version=consent_version,
        )

        widget_config.additional_properties = d
        return widget_config

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
