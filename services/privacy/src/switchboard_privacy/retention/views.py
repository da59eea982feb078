"""``/api/v1/privacy/retention``: policies per category, and a dry-run preview of the next sweep."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from switchboard_common.domain.accounts.auth import AdminAgent, CurrentAgent, ResourcesDep, SessionDep
from switchboard_common.domain.privacy.models import RetentionPolicy
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.inputs import integer
from switchboard_common.infra.schemas import Strict

from switchboard_privacy.audit import log as audit
from switchboard_privacy.retention.sweep import sweep
from switchboard_privacy.settings import PrivacySettings

router = APIRouter(prefix="/api/v1/privacy", tags=["privacy"])


Days = Annotated[int, integer(1, 36500)]


class PoliciesIn(Strict):
    """Days to keep per category; ``null`` (or left out) removes the policy (keep forever)."""

    messages: Days | None = None
    attachments: Days | None = None
    closed_conversations: Days | None = None
    inactive_contacts: Days | None = None
    logs: Days | None = None


async def _policies(session: SessionDep) -> dict[str, int]:
    rows = await session.scalars(select(RetentionPolicy))
    return {row.category: row.days for row in rows}


@router.get("/retention")
async def get_policies(agent: CurrentAgent, session: SessionDep) -> dict[str, int]:
    return await _policies(session)


@router.put("/retention")
async def put_policies(body: PoliciesIn, agent: AdminAgent, session: SessionDep) -> dict[str, int]:
    for category, days in body.model_dump().items():
        if days is None:
            await session.execute(delete(RetentionPolicy).where(RetentionPolicy.category == category))
        else:
            await session.execute(
                insert(RetentionPolicy)
                .values(account_id=agent.account_id, category=category, days=days, updated_at=utcnow())
                .on_conflict_do_update(
                    index_elements=["account_id", "category"], set_={"days": days, "updated_at": utcnow()}
                )
            )
    await audit.record(
        session,
        account_id=agent.account_id,
        actor=f"user:{agent.user_id}",
        action="retention.changed",
        details={k: v for k, v in body.model_dump().items() if v is not None},
    )
    await session.commit()
    return await _policies(session)


@router.get("/retention/preview")
async def preview(agent: AdminAgent, resources: ResourcesDep) -> dict[str, Any]:
    """What the next sweep would remove now (counted up to one batch per category), nothing removed."""
    settings = resources.settings
    assert isinstance(settings, PrivacySettings)
    result = await sweep(resources, settings, dry_run=True, account_id=agent.account_id)
    return {"dry_run": True, "batch_size": settings.retention_batch_size, "rows": result.rows}
