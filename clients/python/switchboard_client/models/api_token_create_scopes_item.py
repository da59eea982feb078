from typing import Literal

ApiTokenCreateScopesItem = Literal["privacy", "read", "write"]

API_TOKEN_CREATE_SCOPES_ITEM_VALUES: set[ApiTokenCreateScopesItem] = {
    "privacy",
    "read",
    "write",
}


def check_api_token_create_scopes_item(value: str) -> ApiTokenCreateScopesItem:
    if value in API_TOKEN_CREATE_SCOPES_ITEM_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {API_TOKEN_CREATE_SCOPES_ITEM_VALUES!r}")
