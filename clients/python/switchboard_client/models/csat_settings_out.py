from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.csat_settings_out_language import CsatSettingsOutLanguage, check_csat_settings_out_language
from ..types import UNSET, Unset

T = TypeVar("T", bound="CsatSettingsOut")


@_attrs_define
class CsatSettingsOut:
    """
    Attributes:
        effective_question (str):
        enabled (bool | Unset):  Default: False.
        question (None | str | Unset):
        language (CsatSettingsOutLanguage | Unset):  Default: 'en'.
        delay_minutes (int | Unset):  Default: 0.
    """

    effective_question: str
    enabled: bool | Unset = False
    question: None | str | Unset = UNSET
    language: CsatSettingsOutLanguage | Unset = "en"
    delay_minutes: int | Unset = 0

    def to_dict(self) -> dict[str, Any]:
        effective_question = self.effective_question

        enabled = self.enabled

        question: None | str | Unset
        if isinstance(self.question, Unset):
            question = UNSET
        else:
            question = self.question

        language: str | Unset = UNSET
        if not isinstance(self.language, Unset):
            language = self.language

        delay_minutes = self.delay_minutes

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "effective_question": effective_question,
            }
        )
        if enabled is not UNSET:
            field_dict["enabled"] = enabled
        if question is not UNSET:
            field_dict["question"] = question
        if language is not UNSET:
            field_dict["language"] = language
        if delay_minutes is not UNSET:
            field_dict["delay_minutes"] = delay_minutes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        effective_question = d.pop("effective_question")

        enabled = d.pop("enabled", UNSET)

        def _parse_question(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        question = _parse_question(d.pop("question", UNSET))

        _language = d.pop("language", UNSET)
        language: CsatSettingsOutLanguage | Unset
        if isinstance(_language, Unset):
            language = UNSET
        else:
            language = check_csat_settings_out_language(_language)

        delay_minutes = d.pop("delay_minutes", UNSET)

        csat_settings_out = cls(
            effective_question=effective_question,
            enabled=enabled,
            question=question,
            language=language,
            delay_minutes=delay_minutes,
        )

        return csat_settings_out
