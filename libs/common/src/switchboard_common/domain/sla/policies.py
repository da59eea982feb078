"""Which SLA policy applies to a conversation: the most specific target wins (label, then team, then inbox,
then the account's default: a policy created without targets applies to every conversation nothing more
specific covers).

Among several labels with a policy, the most demanding policy wins (the shortest first-response target, then
the shortest resolution target, then the name), so adding a label never loosens a promise.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard_common.domain.accounts.tenancy import require_tenant
from switchboard_common.domain.sla.clock import DEFAULT_PAUSE_STATUSES, Policy
from switchboard_common.domain.sla.models import SlaPolicy, SlaPolicyTarget

TARGET_KINDS = ("label", "team", "inbox")
NEVER = 10**12


@dataclass(frozen=True)
class AccountPolicies:
    """An account's policies and what each applies to."""

    policies: Mapping[str, Policy]
    names: Mapping[str, str]
    # (kind, ref) -> policy id
    targets: Mapping[tuple[str, str], str]
    # Policies without targets: the account's default (the most demanding of them when there are several).
    defaults: tuple[str, ...] = ()

    def resolve(self, inbox_id: uuid.UUID | None, team_id: uuid.UUID | None, labels: Iterable[str]) -> Policy | None:
        labelled = [self.targets.get(("label", label)) for label in sorted(set(labels))]
        found = [self.policies[p] for p in labelled if p is not None and p in self.policies]
        if found:
            return min(found, key=self._demand)
        for kind, ref in (("team", team_id), ("inbox", inbox_id)):
            policy_id = self.targets.get((kind, str(ref))) if ref is not None else None
            if policy_id is not None and policy_id in self.policies:
                return self.policies[policy_id]
        fallback = [self.policies[p] for p in self.defaults if p in self.policies]
        return min(fallback, key=self._demand) if fallback else None

    def _demand(self, policy: Policy) -> tuple[int, int, str]:
        return (
            policy.first_response_seconds or NEVER,
            policy.resolution_seconds or NEVER,
            self.names.get(policy.id, ""),
        )


def policy_of(row: SlaPolicy) -> Policy:
    return Policy(
        id=str(row.id),
        first_response_seconds=row.first_response_seconds,
        next_response_seconds=row.next_response_seconds,
        resolution_seconds=row.resolution_seconds,
        business_hours_only=row.business_hours_only,
        pause_statuses=tuple(row.pause_statuses if row.pause_statuses is not None else DEFAULT_PAUSE_STATUSES),
        raise_priority=row.raise_priority or 0,
    )


def build(rows: Sequence[SlaPolicy], targets: Sequence[tuple[str, str, uuid.UUID]]) -> AccountPolicies:
    targeted = {str(policy_id) for _, _, policy_id in targets}
    return AccountPolicies(
        policies={str(row.id): policy_of(row) for row in rows},
        names={str(row.id): row.name for row in rows},
        targets={(kind, ref): str(policy_id) for kind, ref, policy_id in targets},
        defaults=tuple(sorted(str(row.id) for row in rows if str(row.id) not in targeted)),
    )


async def load(session: AsyncSession, account_id: uuid.UUID) -> AccountPolicies:
    """The account's policies, from a session scoped to it."""
    require_tenant(session, account_id)
    rows = (await session.scalars(select(SlaPolicy))).all()
    targets = (
        await session.execute(select(SlaPolicyTarget.kind, SlaPolicyTarget.ref, SlaPolicyTarget.policy_id))
    ).all()
    return build(rows, [(t.kind, t.ref, t.policy_id) for t in targets])
