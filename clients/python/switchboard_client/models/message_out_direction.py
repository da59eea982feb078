from typing import Literal

MessageOutDirection = Literal["inbound", "outbound"]

MESSAGE_OUT_DIRECTION_VALUES: set[MessageOutDirection] = {
    "inbound",
    "outbound",
}


def check_message_out_direction(value: str) -> MessageOutDirection:
    if value in MESSAGE_OUT_DIRECTION_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {MESSAGE_OUT_DIRECTION_VALUES!r}")
