"""Agent profile deletion: the person goes (name, e-mail, password, sessions, presence, skills, teams);
conversations and messages stay, their author shown as a placeholder, and so does the security audit
(pseudonymized: the agent's id names the placeholder, their networks are cleared)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts import revocation, security_audit
from switchboard_common.domain.accounts.auth import AdminAgent, ResourcesDep, SessionDep
from switchboard_common.domain.accounts.models import SecurityEvent, User
from switchboard_common.domain.accounts.owners import guard_owner_change
from switchboard_common.infra.db import affected_rows
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import errors

from switchboard_privacy.audit import log as audit
from switchboard_privacy.ledger import ErasureLedger

router = APIRouter(prefix="/api/v1/privacy", tags=["privacy"])

PLACEHOLDER_NAME = "Deleted agent"
# Tables with a user_id that deleting an agent keeps: the security audit is evidence, not profile data.
KEPT_TABLES = ("security_events",)


async def erase_agent_rows(session: AsyncSession, agent_id: uuid.UUID) -> dict[str, int]:
    """The agent's profile becomes a placeholder and every row about them as a person or worker goes (any
    table with a ``user_id`` column but ``users`` and the kept security audit, which is pseudonymized); also
    replayed from the erasure ledger after a restore."""
    user = await session.get(User, agent_id, with_for_update=True)
    assert user is not None
    counts: dict[str, int] = {}
    user.name = PLACEHOLDER_NAME
    user.email = f"deleted-{user.id}@deleted.invalid"
    user.password_hash = "!"  # noqa: S105 - matches no password
    user.token_version += 1  # every token and session of the agent stops working
    user.deleted_at = user.deleted_at or utcnow()
    # Rows about the agent as a person or worker (discovered: any table with a user_id column but users and the
    # security audit, which must outlive the agent).
    # With whether each has an account_id: raw SQL states the account itself (the tenancy rule).
    tables = await session.execute(
        text(
            "SELECT c.table_name, EXISTS (SELECT 1 FROM information_schema.columns a "
            "WHERE a.table_schema = c.table_schema AND a.table_name = c.table_name AND a.column_name = 'account_id') "
            "FROM information_schema.columns c WHERE c.table_schema = current_schema() "
            "AND c.column_name = 'user_id' AND c.table_name <> 'users' AND c.table_name <> ALL(:kept)"
        ),
        {"kept": list(KEPT_TABLES)},
    )
    # The security history stays (who did what, when), pseudonymized: its user id now names the placeholder
    # above, and the networks the person worked from go.
    result = await session.execute(
        update(SecurityEvent).where(SecurityEvent.user_id == agent_id).values(ip_prefix=None)
    )
    counts["security_events_pseudonymized"] = affected_rows(result)
    for table, has_account in tables.all():
        condition = "user_id = :u AND account_id = :a" if has_account else "user_id = :u"
        result = await session.execute(
            text(f'DELETE FROM "{table}" WHERE {condition}'),  # noqa: S608
            {"u": agent_id, "a": user.account_id},
        )
        if affected_rows(result):
            counts[table] = affected_rows(result)
    await session.flush()
    return counts


@router.delete(
    "/agents/{agent_id}",
    status_code=200,
    responses=errors(
        forbidden="owner_protected: only an owner removes an owner",
        conflict="last_owner: the account's last owner cannot be removed",
    ),
)
async def delete_agent(
    agent_id: uuid.UUID, admin: AdminAgent, session: SessionDep, resources: ResourcesDep, request: Request
) -> dict[str, object]:
    user = await session.get(User, agent_id, with_for_update=True)
    if user is None or user.account_id != admin.account_id:
        raise AppError(404, "not_found", "agent not found")
    await guard_owner_change(session, admin, user, removing=True)
    counts = await erase_agent_rows(session, agent_id)
    # Written ahead of the commit: a restore of an older backup must not bring the profile back.
    ledger: ErasureLedger = request.app.state.ledger
    await ledger.record("agent_deletion", subjects=[f"user:{agent_id}"])
    await audit.record(
        session,
        account_id=admin.account_id,
        actor=f"user:{admin.user_id}",
        action="agent.deleted",
        details={"counts": counts},
    )
    # Also a security event (after the sweep above, which removes the agent's own rows): who removed whom.
    session.add(
        security_audit.by("agent_removed", admin, request, resources.settings.trusted_proxies, agent_id=str(agent_id))
    )
    await session.commit()
    # The agent's open sockets close now (their token no longer authenticates).
    await revocation.announce(resources.redis, resources.keys, revocation.Revocation(admin.account_id, agent_id))
    keys = resources.keys
    removed = await resources.redis.delete(keys.agent_connections(agent_id), keys.agent_stream(agent_id))
    removed += await resources.redis.hdel(keys.presence(admin.account_id), str(agent_id))
    removed += await resources.redis.hdel(keys.presence_choice(admin.account_id), str(agent_id))
    counts["redis"] = int(removed)
    return {"id": str(agent_id), "name": PLACEHOLDER_NAME, "counts": counts}
