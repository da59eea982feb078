from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.web_settings_update_translations import WebSettingsUpdateTranslations


T = TypeVar("T", bound="WebSettingsUpdate")


@_attrs_define
class WebSettingsUpdate:
    """Any of WebSettings's fields; those left out keep their value.

    Attributes:
        pass_through (bool | Unset):
        slack_mirror_inbox_id (None | Unset | UUID):
        allowed_origins (list[str] | Unset):
        greeting (None | str | Unset):
        display_name (None | str | Unset):
        language (None | str | Unset):
        consent_required (bool | Unset):
        consent_text (None | str | Unset):
        consent_version (str | Unset):
        translations (WebSettingsUpdateTranslations | Unset):
    """

    pass_through: bool | Unset = UNSET
    slack_mirror_inbox_id: None | Unset | UUID = UNSET
    allowed_origins: list[str] | Unset = UNSET
    greeting: None | str | Unset = UNSET
    display_name: None | str | Unset = UNSET
    language: None | str | Unset = UNSET
    consent_required: bool | Unset = UNSET
    consent_text: None | str | Unset = UNSET
    consent_version: str | Unset = UNSET
    translations: WebSettingsUpdateTranslations | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        pass_through = self.pass_through

        slack_mirror_inbox_id: None | str | Unset
        if isinstance(self.slack_mirror_inbox_id, Unset):
            slack_mirror_inbox_id = UNSET
        elif isinstance(self.slack_mirror_inbox_id, UUID):
            slack_mirror_inbox_id = str(self.slack_mirror_inbox_id)
        else:
            slack_mirror_inbox_id = self.slack_mirror_inbox_id

        allowed_origins: list[str] | Unset = UNSET
        if not isinstance(self.allowed_origins, Unset):
            allowed_origins = self.allowed_origins

        greeting: None | str | Unset
        if isinstance(self.greeting, Unset):
            greeting = UNSET
        else:
            greeting = self.greeting

        display_name: None | str | Unset
        if isinstance(self.display_name, Unset):
            display_name = UNSET
        else:
            display_name = self.display_name

        language: None | str | Unset
        if isinstance(self.language, Unset):
            language = UNSET
        else:
            language = self.language

        consent_required = self.consent_required

        consent_text: None | str | Unset
        if isinstance(self.consent_text, Unset):
            consent_text = UNSET
        else:
            consent_text = self.consent_text

        consent_version = self.consent_version

        translations: dict[str, Any] | Unset = UNSET
        if not isinstance(self.translations, Unset):
            translations = self.translations.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if pass_through is not UNSET:
            field_dict["pass_through"] = pass_through
        if slack_mirror_inbox_id is not UNSET:
            field_dict["slack_mirror_inbox_id"] = slack_mirror_inbox_id
        if allowed_origins is not UNSET:
            field_dict["allowed_origins"] = allowed_origins
        if greeting is not UNSET:
            field_dict["greeting"] = greeting
        if display_name is not UNSET:
            field_dict["display_name"] = display_name
        if language is not UNSET:
            field_dict["language"] = language
        if consent_required is not UNSET:
            field_dict["consent_required"] = consent_required
        if consent_text is not UNSET:
            field_dict["consent_text"] = consent_text
        if consent_version is not UNSET:
            field_dict["consent_version"] = consent_version
        if translations is not UNSET:
            field_dict["translations"] = translations

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.web_settings_update_translations import WebSettingsUpdateTranslations  # noqa: PLC0415

        d = dict(src_dict)
        pass_through = d.pop("pass_through", UNSET)

        def _parse_slack_mirror_inbox_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                slack_mirror_inbox_id_type_0 = UUID(data)

                return slack_mirror_inbox_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        slack_mirror_inbox_id = _parse_slack_mirror_inbox_id(d.pop("slack_mirror_inbox_id", UNSET))

        allowed_origins = cast(list[str], d.pop("allowed_origins", UNSET))

        def _parse_greeting(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        greeting = _parse_greeting(d.pop("greeting", UNSET))

        def _parse_display_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        display_name = _parse_display_name(d.pop("display_name", UNSET))

        def _parse_language(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        language = _parse_language(d.pop("language", UNSET))

        consent_required = d.pop("consent_required", UNSET)

        def _parse_consent_text(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        consent_text = _parse_consent_text(d.pop("consent_text", UNSET))

        consent_version = d.pop("consent_version", UNSET)

        _translations = d.pop("translations", UNSET)
        translations: WebSettingsUpdateTranslations | Unset
        if isinstance(_translations, Unset):
            translations = UNSET
        else:
            translations = WebSettingsUpdateTranslations.from_dict(_translations)

        web_settings_update = cls(
            pass_through=pass_through,
            slack_mirror_inbox_id=slack_mirror_inbox_id,
            allowed_origins=allowed_origins,
            greeting=greeting,
            display_name=display_name,
            language=language,
            consent_required=consent_required,
            consent_text=consent_text,
            consent_version=consent_version,
            translations=translations,
        )

        return web_settings_update
