from typing import Literal

LastMessageOutDirection = Literal["inbound", "outbound"]

LAST_MESSAGE_OUT_DIRECTION_VALUES: set[LastMessageOutDirection] = {
    "inbound",
    "outbound",
}


def check_last_message_out_direction(value: str) -> LastMessageOutDirection:
    if value in LAST_MESSAGE_OUT_DIRECTION_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {LAST_MESSAGE_OUT_DIRECTION_VALUES!r}")
