from typing import Literal

CsatSettingsLanguage = Literal["el", "en", "hu", "sq"]

CSAT_SETTINGS_LANGUAGE_VALUES: set[CsatSettingsLanguage] = {
    "el",
    "en",
    "hu",
    "sq",
}


def check_csat_settings_language(value: str) -> CsatSettingsLanguage:
    if value in CSAT_SETTINGS_LANGUAGE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {CSAT_SETTINGS_LANGUAGE_VALUES!r}")
