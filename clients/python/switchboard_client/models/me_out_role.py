from typing import Literal

MeOutRole = Literal["admin", "agent", "owner"]

ME_OUT_ROLE_VALUES: set[MeOutRole] = {
    "admin",
    "agent",
    "owner",
}


def check_me_out_role(value: str) -> MeOutRole:
    if value in ME_OUT_ROLE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {ME_OUT_ROLE_VALUES!r}")
