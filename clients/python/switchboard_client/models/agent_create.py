from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.agent_create_role import AgentCreateRole, check_agent_create_role
from ..types import UNSET, Unset

T = TypeVar("T", bound="AgentCreate")


@_attrs_define
class AgentCreate:
    """
    Attributes:
        email (str):
        name (str):
        password (str):
        role (AgentCreateRole | Unset):  Default: 'agent'.
        max_conversations (int | None | Unset):
    """

    email: str
    name: str
    password: str
    role: AgentCreateRole | Unset = "agent"
    max_conversations: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        email = self.email

        name = self.name

        password = self.password

        role: str | Unset = UNSET
        if not isinstance(self.role, Unset):
            role = self.role

        max_conversations: int | None | Unset
        if isinstance(self.max_conversations, Unset):
            max_conversations = UNSET
        else:
            max_conversations = self.max_conversations

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "email": email,
                "name": name,
                "password": password,
            }
        )
        if role is not UNSET:
            field_dict["role"] = role
        if max_conversations is not UNSET:
            field_dict["max_conversations"] = max_conversations

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        email = d.pop("email")

        name = d.pop("name")

        password = d.pop("password")

        _role = d.pop("role", UNSET)
        role: AgentCreateRole | Unset
        if isinstance(_role, Unset):
            role = UNSET
        else:
            role = check_agent_create_role(_role)

        def _parse_max_conversations(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_conversations = _parse_max_conversations(d.pop("max_conversations", UNSET))

        agent_create = cls(
            email=email,
            name=name,
            password=password,
            role=role,
            max_conversations=max_conversations,
        )

        return agent_create
