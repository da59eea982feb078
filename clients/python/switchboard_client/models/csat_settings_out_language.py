from typing import Literal

CsatSettingsOutLanguage = Literal["el", "en", "hu", "sq"]

CSAT_SETTINGS_OUT_LANGUAGE_VALUES: set[CsatSettingsOutLanguage] = {
    "el",
    "en",
    "hu",
    "sq",
}


def check_csat_settings_out_language(value: str) -> CsatSettingsOutLanguage:
    if value in CSAT_SETTINGS_OUT_LANGUAGE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {CSAT_SETTINGS_OUT_LANGUAGE_VALUES!r}")
