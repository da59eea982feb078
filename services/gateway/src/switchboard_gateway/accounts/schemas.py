from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints
from switchboard_common.infra.inputs import Email, Name, Password, integer, omittable, text
from switchboard_common.infra.schemas import Strict
from switchboard_common.infra.settings import REGION_NAME

Role = Literal["owner", "admin", "agent"]
Skill = Annotated[str, text(100)]
# Conversations an agent holds at once.
Capacity = Annotated[int, integer(0, 1000)]
LoginPassword = Annotated[str, text(256, visible=False)]
# A TOTP code or a recovery code; a wrong one is a 401.
TotpCode = Annotated[str, text(40)]
# A region name as REGIONS spells it; the installation's document lists its regions (state_regions).
Region = Annotated[str, StringConstraints(max_length=20, pattern=REGION_NAME.pattern)]


class SignupRequest(Strict):
    account_name: Name
    email: Email
    password: Password
    # None: the part of the e-mail address before the @.
    name: Name | None = None
    # Where the account's data lives for good (REGIONS; none: the default region). docs/operations.md, "Regions".
    region: Region | None = None


def state_regions(region_names: list[str]) -> Callable[[dict[str, Any]], None]:
    """The sign-up body's ``region`` as this installation has it: one of its regions, or null (the default
    region); in a single-region installation only null. Any other name is a 400 ``unknown_region``."""

    def adjust(document: dict[str, Any]) -> None:
        region = document["components"]["schemas"]["SignupRequest"]["properties"]["region"]
        kept = {k: v for k, v in region.items() if k in ("title", "default")}
        region.clear()
        region.update(kept, description="Where the account's data lives; null or left out: the default region.")
        if region_names:
            region["anyOf"] = [{"type": "string", "enum": list(region_names)}, {"type": "null"}]
        else:
            region["type"] = "null"

    return adjust


class SignupResponse(BaseModel):
    account_id: uuid.UUID
    user_id: uuid.UUID
    region: str | None = None


class LoginRequest(Strict):
    email: Email
    password: LoginPassword
    # A current TOTP code, or an unused recovery code; None (or left out) when two-factor login is off.
    totp_code: TotpCode | None = None


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int
    # Rotating: POST /api/v1/auth/refresh exchanges it for a new pair.
    refresh_token: str | None = None


class AgentCreate(Strict):
    email: Email
    name: Name
    password: Password
    role: Role = "agent"
    # Conversations at once; None: the account's default_max_conversations.
    max_conversations: Capacity | None = None


class AgentUpdate(Strict):
    """Fields left out keep their value. Only max_conversations takes null (back to the account default)."""

    name: Name = omittable()
    role: Role = omittable()
    max_conversations: Capacity | None = None
    # Routing: skills replace the agent's skills; teams replace the agent's team memberships.
    skills: list[Skill] = omittable(max_length=100)
    teams: list[uuid.UUID] = omittable(max_length=100)


class AgentOut(BaseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    email: str
    name: str
    role: Role
    max_conversations: int | None
    status: str = "offline"
    skills: list[str] = Field(default_factory=list)
    teams: list[uuid.UUID] = Field(default_factory=list)


class MeOut(AgentOut):
    account_name: str
