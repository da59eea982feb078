from typing import Literal

ListConversationsStatusType0 = Literal["all", "bot", "open", "pending", "queued", "resolved", "snoozed", "spam"]

LIST_CONVERSATIONS_STATUS_TYPE_0_VALUES: set[ListConversationsStatusType0] = {
    "all",
    "bot",
    "open",
    "pending",
    "queued",
    "resolved",
    "snoozed",
    "spam",
}


def check_list_conversations_status_type_0(value: str) -> ListConversationsStatusType0:
    if value in LIST_CONVERSATIONS_STATUS_TYPE_0_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {LIST_CONVERSATIONS_STATUS_TYPE_0_VALUES!r}")
