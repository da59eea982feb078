"""Signed bearer tokens (JWT, HS256) for agents and widget visitors.

Agent tokens carry the user's ``token_version``: bumping it in the database revokes every older token.
Visitor tokens carry ``kind = "visitor"`` and never open the agent API.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import jwt

ALGORITHM = "HS256"
TokenKind = Literal["agent", "visitor", "refresh", "oauth_state"]


class InvalidToken(Exception):
    """A token that is forged, expired or malformed (never says which)."""


@dataclass(frozen=True)
class TokenClaims:
    kind: TokenKind
    subject: uuid.UUID
    account_id: uuid.UUID
    token_id: str
    expires_at: int
    role: str | None = None
    version: int = 0
    inbox_id: uuid.UUID | None = None
    # The login (auth_sessions row) an agent access token belongs to: revoking it revokes the token.
    session_id: uuid.UUID | None = None


def issue(
    secret: str,
    *,
    kind: TokenKind,
    subject: uuid.UUID,
    account_id: uuid.UUID,
    ttl_seconds: int,
    role: str | None = None,
    version: int = 0,
    inbox_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "kind": kind,
        "sub": str(subject),
        "acct": str(account_id),
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
        "ver": version,
    }
    if role is not None:
        claims["role"] = role
    if inbox_id is not None:
        claims["inbox"] = str(inbox_id)
    if session_id is not None:
        claims["sid"] = str(session_id)
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


# Tokens already verified, so a client's every request does not pay PyJWT again (base64, JSON, HMAC and claim
# checks: a tenth of the widget POST's CPU in make run's front, py-spy at 100 msg/s). Keyed by secret and
# token: a changed secret verifies anew. A hit checks expiry again, as PyJWT would; revocation is never decided
# here (token versions and sessions are checked by the callers), so a hit answers exactly what decoding would.
VERIFIED_CACHE_SIZE = 4096
_verified: dict[tuple[str, str], TokenClaims] = {}


def decode(secret: str, token: str) -> TokenClaims:
    key = (secret, token)
    known = _verified.get(key)
    if known is not None:
        if known.expires_at > time.time():
            return known
        _verified.pop(key, None)
        raise InvalidToken("invalid or expired token")
    claims = _decode(secret, token)
    if len(_verified) >= VERIFIED_CACHE_SIZE:
        with contextlib.suppress(StopIteration, RuntimeError):  # a thread's decode may race this one
            _verified.pop(next(iter(_verified)), None)  # the oldest entry
    _verified[key] = claims
    return claims


def _decode(secret: str, token: str) -> TokenClaims:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "kind"]})
        return TokenClaims(
            kind=claims["kind"],
            subject=uuid.UUID(claims["sub"]),
            account_id=uuid.UUID(claims["acct"]),
            token_id=str(claims.get("jti", "")),
            expires_at=int(claims["exp"]),
            role=claims.get("role"),
            version=int(claims.get("ver", 0)),
            inbox_id=uuid.UUID(claims["inbox"]) if claims.get("inbox") else None,
            session_id=uuid.UUID(claims["sid"]) if claims.get("sid") else None,
        )
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise InvalidToken("invalid or expired token") from exc
