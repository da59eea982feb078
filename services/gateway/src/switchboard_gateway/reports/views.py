"""Reports: ``GET /api/v1/reports/summary`` (JSON or ``?format=csv``), ``GET /api/v1/reports/live``, and the
account's time zone (``/api/v1/account/timezone``) that report days and hours follow."""

from __future__ import annotations

from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm.attributes import flag_modified
from switchboard_common.domain.accounts.models import Account
from switchboard_common.infra.db import atomic
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.errors import AppError

from switchboard_gateway.deps import AdminAgent, CurrentAgent, ResourcesDep, SessionDep
from switchboard_gateway.reports import live, service
from switchboard_gateway.reports.schemas import Summary, TimeZoneSetting

router = APIRouter(prefix="/api/v1", tags=["reports"])
# YYYY-MM-DD, or an ISO 8601 date-time (an impossible date, from after to, or over 400 days is still a 422).
MOMENT_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:[0-9]{2})?)?$"
)


@router.get(
    "/reports/summary",
    response_model=Summary,
    responses={200: {"content": {"text/csv": {}}, "description": "the summary (JSON, or CSV with format=csv)"}},
)
async def report_summary(
    agent: CurrentAgent,
    session: SessionDep,
    group_by: Literal["agent", "team", "inbox", "channel", "label"] = "agent",
    since: str | None = Query(
        default=None, alias="from", max_length=40, pattern=MOMENT_PATTERN, description="date or date-time"
    ),
    until: str | None = Query(
        default=None, alias="to", max_length=40, pattern=MOMENT_PATTERN, description="date (included) or date-time"
    ),
    format: Literal["json", "csv"] = "json",
) -> Any:
    """Per group: conversations opened and resolved, messages in and out, first response, resolution and queue
    wait times (median and p90, seconds), SLA attainment (%), CSAT average and responses; from the hourly
    rollups, in the account's time zone."""
    account = await session.get(Account, agent.account_id)
    zone = service.account_zone(account)
    start, end = service.time_range(since, until, zone, utcnow())
    restrict = service.visibility_filter(
        account, agent.role, agent.user_id, await service.team_ids_of(session, agent.user_id)
    )
    groups = await service.summary(session, agent.account_id, start, end, group_by, restrict)
    if format == "csv":
        filename = f"report-{group_by}-{start.date()}-{end.date()}.csv"
        return Response(
            service.to_csv(groups),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return {"from": start, "to": end, "group_by": group_by, "groups": groups}


@router.get("/reports/live")
async def report_live(admin: AdminAgent, session: SessionDep, resources: ResourcesDep) -> dict[str, Any]:
    """Queue length and longest wait per inbox and team, agents online and away with their load (also pushed
    to owners' and admins' sockets as ``reports.live`` frames when it changes)."""
    return await live.snapshot(resources, session, admin.account_id)


@router.get("/account/timezone", response_model=TimeZoneSetting)
async def get_timezone(agent: CurrentAgent, session: SessionDep) -> TimeZoneSetting:
    return TimeZoneSetting(timezone=str(service.account_zone(await session.get(Account, agent.account_id))))


@router.put("/account/timezone", response_model=TimeZoneSetting)
async def put_timezone(body: TimeZoneSetting, admin: AdminAgent, session: SessionDep) -> TimeZoneSetting:
    try:
        ZoneInfo(body.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise AppError(422, "unknown_timezone", "not an IANA time zone name (e.g. Europe/Athens)") from None
    async with atomic(session):
        account = await session.get(Account, admin.account_id)
        if account is None:
            raise AppError(404, "not_found", "account not found")
        account.settings = {**(account.settings or {}), "timezone": body.timezone}
        flag_modified(account, "settings")
    return body
