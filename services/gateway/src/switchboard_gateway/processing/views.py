"""``GET /api/v1/account/subprocessors`` and ``GET /api/v1/account/processing-record`` (owners and admins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from switchboard_common.infra.db.base import utcnow

from switchboard_gateway.deps import AdminAgent, SessionDep, SettingsDep
from switchboard_gateway.processing import service

router = APIRouter(prefix="/api/v1/account", tags=["privacy"])


@router.get("/subprocessors", summary="Outside processors receiving this account's data, for its configuration")
async def subprocessors(admin: AdminAgent, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    found = await service.subprocessors(session, settings)
    return {
        "account_id": str(admin.account_id),
        "region": settings.region or None,
        "generated_at": utcnow().isoformat(),
        "subprocessors": [p.as_dict() for p in found],
    }


@router.get("/processing-record", summary="The account's record of processing activities (GDPR Art. 30), as JSON")
async def processing_record(admin: AdminAgent, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    return await service.processing_record(session, settings, admin.account_id)
