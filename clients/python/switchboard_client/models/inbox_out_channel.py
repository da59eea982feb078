from typing import Literal

InboxOutChannel = Literal["api", "messenger", "slack", "web"]

INBOX_OUT_CHANNEL_VALUES: set[InboxOutChannel] = {
    "api",
    "messenger",
    "slack",
    "web",
}


def check_inbox_out_channel(value: str) -> InboxOutChannel:
    if value in INBOX_OUT_CHANNEL_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {INBOX_OUT_CHANNEL_VALUES!r}")
