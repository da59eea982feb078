from typing import Literal

ListConversationsAssigneeType0 = Literal["any", "me", "unassigned"]

LIST_CONVERSATIONS_ASSIGNEE_TYPE_0_VALUES: set[ListConversationsAssigneeType0] = {
    "any",
    "me",
    "unassigned",
}


def check_list_conversations_assignee_type_0(value: str) -> ListConversationsAssigneeType0:
    if value in LIST_CONVERSATIONS_ASSIGNEE_TYPE_0_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {LIST_CONVERSATIONS_ASSIGNEE_TYPE_0_VALUES!r}")
