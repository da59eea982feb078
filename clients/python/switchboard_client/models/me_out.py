from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.me_out_role import MeOutRole, check_me_out_role
from ..types import UNSET, Unset

T = TypeVar("T", bound="MeOut")


@_attrs_define
class MeOut:
    """
    Attributes:
        id (UUID):
        account_id (UUID):
        email (str):
        name (str):
        role (MeOutRole):
        max_conversations (int | None):
        account_name (str):
        status (str | Unset):  Default: 'offline'.
        skills (list[str] | Unset):
        teams (list[UUID] | Unset):
    """

    id: UUID
    account_id: UUID
    email: str
    name: str
    role: MeOutRole
    max_conversations: int | None
    account_name: str
    status: str | Unset = "offline"
    skills: list[str] | Unset = UNSET
    teams: list[UUID] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        account_id = str(self.account_id)

        email = self.email

        name = self.name

        role: str = self.role

        max_conversations: int | None
        max_conversations = self.max_conversations

        account_name = self.account_name

        status = self.status

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
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "account_id": account_id,
                "email": email,
                "name": name,
                "role": role,
                "max_conversations": max_conversations,
                "account_name": account_name,
            }
        )
        if status is not UNSET:
            field_dict["status"] = status
        if skills is not UNSET:
            field_dict["skills"] = skills
        if teams is not UNSET:
            field_dict["teams"] = teams

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        account_id = UUID(d.pop("account_id"))

        email = d.pop("email")

        name = d.pop("name")

        role = check_me_out_role(d.pop("role"))

        def _parse_max_conversations(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        max_conversations = _parse_max_conversations(d.pop("max_conversations"))

        account_name = d.pop("account_name")

        status = d.pop("status", UNSET)

        skills = cast(list[str], d.pop("skills", UNSET))

        _teams = d.pop("teams", UNSET)
        teams: list[UUID] | Unset = UNSET
        if _teams is not UNSET:
            teams = []
            for teams_item_data in _teams:
                teams_item = UUID(teams_item_data)

                teams.append(teams_item)

        me_out = cls(
            id=id,
            account_id=account_id,
            email=email,
            name=name,
            role=role,
            max_conversations=max_conversations,
            account_name=account_name,
            status=status,
            skills=skills,
            teams=teams,
        )

        me_out.additional_properties = d
        return me_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
