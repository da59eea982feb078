from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="HandoffRouting")


@_attrs_define
class HandoffRouting:
    """What the router gets on handoff (docs/routing.md); each may be left out.

    Attributes:
        skills (list[str] | Unset):
        preferred_skills (list[str] | Unset):
        language (str | Unset):
        priority (int | Unset):
        team_id (UUID | Unset):
    """

    skills: list[str] | Unset = UNSET
    preferred_skills: list[str] | Unset = UNSET
    language: str | Unset = UNSET
    priority: int | Unset = UNSET
    team_id: UUID | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        skills: list[str] | Unset = UNSET
        if not isinstance(self.skills, Unset):
            skills = self.skills

        preferred_skills: list[str] | Unset = UNSET
        if not isinstance(self.preferred_skills, Unset):
            preferred_skills = self.preferred_skills

        language = self.language

        priority = self.priority

        team_id: str | Unset = UNSET
        if not isinstance(self.team_id, Unset):
            team_id = str(self.team_id)

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if skills is not UNSET:
            field_dict["skills"] = skills
        if preferred_skills is not UNSET:
            field_dict["preferred_skills"] = preferred_skills
        if language is not UNSET:
            field_dict["language"] = language
        if priority is not UNSET:
            field_dict["priority"] = priority
        if team_id is not UNSET:
            field_dict["team_id"] = team_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        skills = cast(list[str], d.pop("skills", UNSET))

        preferred_skills = cast(list[str], d.pop("preferred_skills", UNSET))

        language = d.pop("language", UNSET)

        priority = d.pop("priority", UNSET)

        _team_id = d.pop("team_id", UNSET)
        team_id: UUID | Unset
        if isinstance(_team_id, Unset):
            team_id = UNSET
        else:
            team_id = UUID(_team_id)

        handoff_routing = cls(
            skills=skills,
            preferred_skills=preferred_skills,
            language=language,
            priority=priority,
            team_id=team_id,
        )

        return handoff_routing
