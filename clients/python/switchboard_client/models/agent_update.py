from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.agent_update_role import AgentUpdateRole, check_agent_update_role
from ..types import UNSET, Unset

T = TypeVar("T", bound="AgentUpdate")


@_attrs_define
class AgentUpdate:
    """Fields left out keep their value. Only max_conversations takes null (back to the account default).

    Attributes:
        name (str | Unset):
        role (AgentUpdateRole | Unset):
        max_conversations (int | None | Unset):
        skills (list[str] | Unset):
        teams (list[UUID] | Unset):
    """

    name: str | Unset = UNSET
    role: AgentUpdateRole | Unset = UNSET
    max_conversations: int | None | Unset = UNSET
    skills: list[str] | Unset = UNSET
    teams: list[UUID] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        role: str | Unset = UNSET
        if not isinstance(self.role, Unset):
            role = self.role

        max_conversations: int | None | Unset
        if isinstance(self.max_conversations, Unset):
            max_conversations = UNSET
        else:
            max_conversations = self.max_conversations

        skills: list[str] | Unset = UNSET
        if not isinstance(self.skills, Unset):
            skills = self.skills

        teams: list[str] | Unset = UNSET
        if not isinstance(self.teams, Unset):
            teams = []
            for teams_item_data in self.teams:
                teams_item = str(teams_item_data)
                teams.append(teams_item)

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if role is not UNSET:
            field_dict["role"] = role
        if max_conversations is not UNSET:
            field_dict["max_conversations"] = max_conversations
        if skills is not UNSET:
            field_dict["skills"] = skills
        if teams is not UNSET:
            field_dict["teams"] = teams

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name", UNSET)

        _role = d.pop("role", UNSET)
        role: AgentUpdateRole | Unset
        if isinstance(_role, Unset):
            role = UNSET
        else:
            role = check_agent_update_role(_role)

        def _parse_max_conversations(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_conversations = _parse_max_conversations(d.pop("max_conversations", UNSET))

        skills = cast(list[str], d.pop("skills", UNSET))

        _teams = d.pop("teams", UNSET)
        teams: list[UUID] | Unset = UNSET
        if _teams is not UNSET:
            teams = []
            for teams_item_data in _teams:
                teams_item = UUID(teams_item_data)

                teams.append(teams_item)

        agent_update = cls(
            name=name,
            role=role,
            max_conversations=max_conversations,
            skills=skills,
            teams=teams,
        )

        return agent_update
