"""SLA policies: ``/api/v1/sla-policies`` (admins write, agents read).

A change reaches open conversations at once: their clocks are marked due, and the router's SLA worker
recomputes them with the policies as they are now (switchboard_router.sla).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response, status
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts.models import Team
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.domain.sla.models import ConversationSla, SlaPolicy, SlaPolicyTarget
from switchboard_common.infra.db import atomic
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import errors, provides

from switchboard_gateway.deps import AdminAgent, CurrentAgent, SessionDep
from switchboard_gateway.sla.schemas import PolicyCreate, PolicyOut, PolicyUpdate

router = APIRouter(prefix="/api/v1/sla-policies", tags=["sla"])
POLICY_FIELDS = (
    "name",
    "first_response_seconds",
    "next_response_seconds",
    "resolution_seconds",
    "business_hours_only",
    "pause_statuses",
    "raise_priority",
)


async def _out(session: AsyncSession, policy: SlaPolicy) -> PolicyOut:
    targets = (
        await session.execute(
            select(SlaPolicyTarget.kind, SlaPolicyTarget.ref)
            .where(SlaPolicyTarget.policy_id == policy.id)
            .order_by(SlaPolicyTarget.id)
        )
    ).all()
    return PolicyOut(
        id=policy.id,
        name=policy.name,
        first_response_seconds=policy.first_response_seconds,
        next_response_seconds=policy.next_response_seconds,
        resolution_seconds=policy.resolution_seconds,
        business_hours_only=policy.business_hours_only,
        pause_statuses=list(policy.pause_statuses or []),
        raise_priority=policy.raise_priority,
        inbox_ids=[uuid.UUID(t.ref) for t in targets if t.kind == "inbox"],
        team_ids=[uuid.UUID(t.ref) for t in targets if t.kind == "team"],
        labels=[t.ref for t in targets if t.kind == "label"],
        created_at=policy.created_at,
        updated_at=policy.updated_at,
    )


async def _get(session: AsyncSession, policy_id: uuid.UUID) -> SlaPolicy:
    policy = await session.scalar(select(SlaPolicy).where(SlaPolicy.id == policy_id))
    if policy is None:
        raise AppError(404, "not_found", "SLA policy not found")
    return policy


async def _set_targets(
    session: AsyncSession,
    policy: SlaPolicy,
    kind: str,
    refs: list[Any],
) -> None:
    """Replaces what the policy applies to of one kind (an inbox, team or label belongs to one policy)."""
    unique = list(dict.fromkeys(str(r).strip() for r in refs if str(r).strip()))
    if kind in ("inbox", "team") and unique:
        model = Inbox if kind == "inbox" else Team
        found = set(
            map(
                str,
                (await session.scalars(select(model.id).where(model.id.in_([uuid.UUID(r) for r in unique])))).all(),
            )
        )
        missing = [r for r in unique if r not in found]
        if missing:
            # Ids of another account are unknown here, as everywhere: a 404.
            raise AppError(404, f"unknown_{kind}", f"no such {kind} in this account", details={"ids": missing})
    await session.execute(
        delete(SlaPolicyTarget).where(SlaPolicyTarget.policy_id == policy.id, SlaPolicyTarget.kind == kind)
    )
    taken = (
        await session.execute(
            select(SlaPolicyTarget.ref, SlaPolicy.name)
            .join(SlaPolicy, SlaPolicy.id == SlaPolicyTarget.policy_id)
            .where(
                SlaPolicyTarget.kind == kind,
                SlaPolicyTarget.ref.in_(unique),
            )
        )
    ).all()
    if taken:
        raise AppError(
            409,
            "sla_target_taken",
            f"another policy already applies to this {kind}",
            details={"kind": kind, "refs": [t.ref for t in taken], "policies": sorted({t.name for t in taken})},
        )
    for ref in unique:
        session.add(SlaPolicyTarget(account_id=policy.account_id, policy_id=policy.id, kind=kind, ref=ref))


async def _recheck_open_conversations(session: AsyncSession) -> None:
    """Open conversations' clocks follow the change at the router's next check (now)."""
    await session.execute(
        update(ConversationSla).where(ConversationSla.state["status"].astext != "resolved").values(check_at=utcnow())
    )


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError:
        raise AppError(409, "name_taken", "an SLA policy with this name exists") from None


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PolicyOut,
    responses=errors(
        not_found="unknown_inbox or unknown_team: not of this account",
        conflict="name_taken, or sla_target_taken: another policy applies to it",
    ),
    openapi_extra=provides(policy_id="$response.body#/id"),
)
async def create_policy(body: PolicyCreate, admin: AdminAgent, session: SessionDep) -> PolicyOut:
    async with atomic(session):
        policy = SlaPolicy(id=uuid.uuid4(), account_id=admin.account_id, **body.model_dump(include=set(POLICY_FIELDS)))
        session.add(policy)
        await _flush(session)
        await _set_targets(session, policy, "inbox", body.inbox_ids)
        await _set_targets(session, policy, "team", body.team_ids)
        await _set_targets(session, policy, "label", body.labels)
        await _recheck_open_conversations(session)
        await session.flush()
        return await _out(session, policy)


@router.get("", response_model=list[PolicyOut], openapi_extra=provides(policy_id="$response.body#/0/id"))
async def list_policies(agent: CurrentAgent, session: SessionDep) -> list[PolicyOut]:
    rows = (await session.scalars(select(SlaPolicy).order_by(SlaPolicy.name))).all()
    return [await _out(session, row) for row in rows]


@router.get("/{policy_id}", response_model=PolicyOut)
async def get_policy(policy_id: uuid.UUID, agent: CurrentAgent, session: SessionDep) -> PolicyOut:
    return await _out(session, await _get(session, policy_id))


async def _update(policy_id: uuid.UUID, body: PolicyUpdate, admin: AdminAgent, session: SessionDep) -> PolicyOut:
    async with atomic(session):
        policy = await _get(session, policy_id)
        changes = body.model_dump(exclude_unset=True)
        for field in POLICY_FIELDS:
            if field not in changes:
                continue
            if changes[field] is None and field in ("name", "business_hours_only", "pause_statuses", "raise_priority"):
                raise AppError(422, "invalid_value", f"{field} cannot be null")
            setattr(policy, field, changes[field])
        if not (policy.first_response_seconds or policy.next_response_seconds or policy.resolution_seconds):
            # 409: the request is well formed; with what the policy has, no target would be left.
            raise AppError(409, "no_target", "a policy needs at least one target")
        policy.updated_at = utcnow()
        await _flush(session)
        for kind, field in (("inbox", "inbox_ids"), ("team", "team_ids"), ("label", "labels")):
            if changes.get(field) is not None:
                await _set_targets(session, policy, kind, changes[field])
        await _recheck_open_conversations(session)
        await session.flush()
        return await _out(session, policy)


_UPDATE_ERRORS = errors(
    not_found="no such policy; or unknown_inbox or unknown_team: not of this account",
    conflict="name_taken, sla_target_taken, or no_target: no target would be left",
)


@router.patch("/{policy_id}", response_model=PolicyOut, responses=_UPDATE_ERRORS)
async def patch_policy(policy_id: uuid.UUID, body: PolicyUpdate, admin: AdminAgent, session: SessionDep) -> PolicyOut:
    return await _update(policy_id, body, admin, session)


@router.put("/{policy_id}", response_model=PolicyOut, responses=_UPDATE_ERRORS)
async def put_policy(policy_id: uuid.UUID, body: PolicyUpdate, admin: AdminAgent, session: SessionDep) -> PolicyOut:
    return await _update(policy_id, body, admin, session)


@router.delete("/{policy_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_policy(policy_id: uuid.UUID, admin: AdminAgent, session: SessionDep) -> Response:
    async with atomic(session):
        await session.delete(await _get(session, policy_id))
        await _recheck_open_conversations(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
