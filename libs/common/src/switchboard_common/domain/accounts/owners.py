"""Owner protections, one rule for every service that changes or removes agents: only an owner (in person,
not through an API token) may demote or remove an owner, and an account never loses its last owner."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard_common.domain.accounts.auth import AgentPrincipal
from switchboard_common.domain.accounts.models import User
from switchboard_common.domain.accounts.tenancy import require_tenant
from switchboard_common.infra.errors import AppError

OWNER = "owner"


async def guard_owner_change(
    session: AsyncSession, actor: AgentPrincipal, target: User, *, new_role: str | None = None, removing: bool = False
) -> None:
    """Raises unless ``actor`` may demote (``new_role``) or remove (``removing``) ``target``. Call inside the
    transaction that makes the change: the account's owner rows stay locked until it commits, so two owners
    demoting each other at once cannot leave the account without one. The session is scoped to the account
    (it adds the account condition to the count of owners)."""
    if target.role != OWNER or not (removing or (new_role is not None and new_role != OWNER)):
        return
    if actor.role != OWNER or actor.api_token_id is not None:
        raise AppError(403, "owner_protected", "only an owner can change or remove an owner")
    require_tenant(session, target.account_id)
    owners = await session.scalar(
        select(func.count()).select_from(
            select(User.id).where(User.role == OWNER, User.deleted_at.is_(None)).with_for_update().subquery()
        )
    )
    if (owners or 0) <= 1:
        raise AppError(
            409, "last_owner", "the account's last owner cannot be removed or demoted: make another owner first"
        )
