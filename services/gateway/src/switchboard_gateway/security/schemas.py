from __future__ import annotations

import ipaddress
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from switchboard_common.infra.schemas import Strict

Scope = Literal["read", "write", "privacy"]


class TotpEnrollment(BaseModel):
    secret: str
    otpauth_uri: str


class TotpCode(Strict):
    code: str = Field(min_length=1, max_length=32)


class TotpConfirmed(BaseModel):
    recovery_codes: list[str]


class TotpDisable(Strict):
    password: str = Field(min_length=1, max_length=256)
    code: str = Field(min_length=1, max_length=32, description="a current TOTP code or an unused recovery code")


class RefreshRequest(Strict):
    refresh_token: str = Field(min_length=1, max_length=200)


class SessionOut(BaseModel):
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    # The login the request was made with.
    current: bool


class PasswordChange(Strict):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=8, max_length=256)


class ApiTokenCreate(Strict):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(min_length=1, max_length=3)


class ApiTokenCreated(BaseModel):
    id: uuid.UUID
    token: str
    name: str
    scopes: list[str]


class ApiTokenOut(BaseModel):
    id: uuid.UUID
    name: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class IpAllowlist(Strict):
    cidrs: list[str] = Field(max_length=200)

    @field_validator("cidrs")
    @classmethod
    def _valid_networks(cls, cidrs: list[str]) -> list[str]:
        result = []
        for cidr in cidrs:
            try:
                result.append(str(ipaddress.ip_network(cidr.strip(), strict=False)))
            except ValueError:
                raise ValueError(f"not an IPv4 or IPv6 network: {cidr[:60]!r}") from None
        return result


class SecurityPolicy(Strict):
    require_2fa: bool


class SecurityEventOut(BaseModel):
    id: int
    kind: str
    user_id: uuid.UUID | None
    ip_prefix: str | None
    details: dict[str, Any]
    created_at: datetime
