"""Security audit (``security_events``): who did what security-relevant thing, when, from which network --
ids and kinds, never secrets, e-mails, full addresses or message content. Shared by every service that
changes credentials, roles or agents, so each records the same shape."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from switchboard_common.domain.accounts.auth import AgentPrincipal
from switchboard_common.domain.accounts.models import SecurityEvent
from switchboard_common.infra.clientip import address_prefix, client_address


def event(
    kind: str,
    *,
    account_id: uuid.UUID | None,
    user_id: uuid.UUID | None,
    connection: HTTPConnection | None = None,
    trusted_proxies: str = "",
    **details: Any,
) -> SecurityEvent:
    address = client_address(connection, trusted_proxies) if connection is not None else None
    return SecurityEvent(
        account_id=account_id, user_id=user_id, kind=kind, ip_prefix=address_prefix(address), details=details
    )


def by(
    kind: str, actor: AgentPrincipal, connection: HTTPConnection | None, trusted_proxies: str, **details: Any
) -> SecurityEvent:
    """An event done by an agent or an integration (then the API token's id is in the details)."""
    if actor.api_token_id is not None:
        details["via_api_token"] = str(actor.api_token_id)
    return event(
        kind,
        account_id=actor.account_id,
        user_id=actor.user_id,
        connection=connection,
        trusted_proxies=trusted_proxies,
        **details,
    )


async def record(session: AsyncSession, row: SecurityEvent) -> None:
    """Adds to the caller's transaction: the event commits with the change it describes."""
    session.add(row)


async def record_now(sessionmaker: async_sessionmaker[AsyncSession], row: SecurityEvent) -> None:
    """Its own transaction: for failures, whose request is about to answer with an error."""
    async with sessionmaker() as session, session.begin():
        session.add(row)
