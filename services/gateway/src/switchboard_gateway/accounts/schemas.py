from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr, Field, StringConstraints
from switchboard_common.infra.schemas import Strict

Role = Literal["owner", "admin", "agent"]
Skill = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class SignupRequest(Strict):
    account_name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    password: str = Field(min_length=8, max_length=256)
    name: str | None = Field(default=None, max_length=200)
    # Where the account's data lives for good (REGIONS; none: the default region). docs/operations.md, "Regions".
    region: str | None = Field(default=None, max_length=20)


class SignupResponse(BaseModel):
    account_id: uuid.UUID
    user_id: uuid.UUID
    region: str | None = None


class LoginRequest(Strict):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)
    totp_code: str | None = Field(default=None, max_length=32)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int
    # Rotating: POST /api/v1/auth/refresh exchanges it for a new pair.
    refresh_token: str | None = None


class AgentCreate(Strict):
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=8, max_length=256)
    role: Role = "agent"
    max_conversations: int | None = Field(default=None, ge=0, le=1000)


class AgentUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    max_conversations: int | None = Field(default=None, ge=0, le=1000)
    # Routing: skills replace the agent's skills; teams replace the agent's team memberships.
    skills: list[Skill] | None = Field(default=None, max_length=100)
    teams: list[uuid.UUID] | None = Field(default=None, max_length=100)


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
