from typing import Literal

PolicyUpdatePauseStatusesItem = Literal["pending", "snoozed"]

POLICY_UPDATE_PAUSE_STATUSES_ITEM_VALUES: set[PolicyUpdatePauseStatusesItem] = {
    "pending",
    "snoozed",
}


def check_policy_update_pause_statuses_item(value: str) -> PolicyUpdatePauseStatusesItem:
    if value in POLICY_UPDATE_PAUSE_STATUSES_ITEM_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {POLICY_UPDATE_PAUSE_STATUSES_ITEM_VALUES!r}")
