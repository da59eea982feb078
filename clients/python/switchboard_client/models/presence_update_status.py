from typing import Literal

PresenceUpdateStatus = Literal["away", "offline", "online"]

PRESENCE_UPDATE_STATUS_VALUES: set[PresenceUpdateStatus] = {
    "away",
    "offline",
    "online",
}


def check_presence_update_status(value: str) -> PresenceUpdateStatus:
    if value in PRESENCE_UPDATE_STATUS_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {PRESENCE_UPDATE_STATUS_VALUES!r}")
