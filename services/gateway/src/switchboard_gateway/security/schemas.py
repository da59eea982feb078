from __future__ import annotations

import ipaddress
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator
from switchboard_common.infra.inputs import Bool, Network, Password, text
from switchboard_common.infra.schemas import Strict

Scope = Literal["read", "write", "privacy"]
# Six digits, optionally split in two by a space as authenticator apps show them.
TOTP_CODE = r"^ *[0-9]{3} ?[0-9]{3} *$"
TotpCodeText = Annotated[str, StringConstraints(max_length=32, pattern=TOTP_CODE)]
# A TOTP code or a recovery code (``k7m2q-x9c4a-...``, case and spaces ignored); a wrong one is a 401.
SecondFactor = Annotated[str, text(40)]
CurrentPassword = Annotated[str, text(256, visible=False)]
RefreshToken = Annotated[str, text(200, visible=False)]
TokenName = Annotated[str, text(100)]


class TotpEnrollment(BaseModel):
    secret: str
    otpauth_uri: str


class TotpCode(Strict):
    code: TotpCodeText


class TotpConfirmed(BaseModel):
    recovery_codes: list[str]


class TotpDisable(Strict):
    password: CurrentPassword
    code: SecondFactor = Field(description="a current TOTP code or an unused recovery code")


class RefreshRequest(Strict):
    refresh_token: RefreshToken


class SessionOut(BaseModel):
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    # The login the request was made with.
    current: bool


class PasswordChange(Strict):
    current_password: CurrentPassword
    new_password: Password


class ApiTokenCreate(Strict):
    name: TokenName
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
    """Empty: no restriction. Addresses count as one-address networks; host bits of a network are dropped."""

    cidrs: list[Network] = Field(max_length=200)

    @field_validator("cidrs")
    @classmethod
    def _normalized(cls, cidrs: list[str]) -> list[str]:
        result = []
        for cidr in cidrs:
            try:
                result.append(str(ipaddress.ip_network(cidr.strip(), strict=False)))
            except ValueError:
                raise ValueError(f"not an IPv4 or IPv6 network: {cidr[:60]!r}") from None
        return result


class SecurityPolicy(Strict):
    require_2fa: Bool


class SecurityEventOut(BaseModel):
    id: int
    kind: str
    user_id: uuid.UUID | None
    ip_prefix: str | None
    details: dict[str, Any]
    created_at: datetime
