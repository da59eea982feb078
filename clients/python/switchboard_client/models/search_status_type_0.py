from typing import Literal

SearchStatusType0 = Literal["all", "bot", "open", "pending", "queued", "resolved", "snoozed", "spam"]

SEARCH_STATUS_TYPE_0_VALUES: set[SearchStatusType0] = {
    "all",
    "bot",
    "open",
    "pending",
    "queued",
    "resolved",
    "snoozed",
    "spam",
}


def check_search_status_type_0(value: str) -> SearchStatusType0:
    if value in SEARCH_STATUS_TYPE_0_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {SEARCH_STATUS_TYPE_0_VALUES!r}")
