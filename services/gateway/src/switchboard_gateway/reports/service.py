"""The summary report, read from the rollups only (never the messages table)."""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import BigInteger, LargeBinary, and_, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts.models import Account, Team, TeamMember, User
from switchboard_common.domain.accounts.tenancy import require_tenant
from switchboard_common.domain.conversations.visibility import SEE_ALL_ROLES, agents_see
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.domain.reports import histogram
from switchboard_common.domain.reports.models import (
    COUNTERS,
    GROUP_KINDS,
    NONE_ID,
    ReportDimension,
    ReportGroup,
    ReportHistogram,
    ReportRollup,
)
from switchboard_common.domain.reports.rollups import METRICS
from switchboard_common.infra.errors import AppError

GROUPS = GROUP_KINDS
SUMMED = COUNTERS
DURATIONS = {
    "first_response_seconds": "first_response",
    "resolution_seconds": "resolution",
    "queue_wait_seconds": "queue_wait",
}
HISTOGRAM_COLUMNS = {number: name for name, number in METRICS.items()}  # report_groups' histogram columns
MAX_RANGE = timedelta(days=400)
NONE_LABELS = {"agent": "Unassigned", "team": "No team", "inbox": "No inbox"}


def account_zone(account: Account | None) -> ZoneInfo:
    name = ((account.settings or {}) if account is not None else {}).get("timezone") or "UTC"
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse_moment(value: str | None, zone: ZoneInfo, *, end: bool) -> datetime | None:
    """A date (the whole day in the account's time zone: ``to`` includes it) or a date-time (without an offset:
    the account's time zone)."""
    if value is None or value == "":
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day + timedelta(days=1) if end else day, time.min, tzinfo=zone)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise AppError(422, "invalid_time", f"'{value}' is not a date (YYYY-MM-DD) or an ISO 8601 date-time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def time_range(start: str | None, end: str | None, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    to = parse_moment(end, zone, end=True) or now.astimezone(zone)
    since = parse_moment(start, zone, end=False) or (to - timedelta(days=7))
    if since >= to:
        raise AppError(422, "invalid_range", "from must be before to")
    if to - since > MAX_RANGE:
        raise AppError(422, "range_too_long", "a report covers at most 400 days")
    return since.astimezone(zone), to.astimezone(zone)


def visibility_filter(account: Account | None, role: str, agent_id: uuid.UUID, team_ids: list[uuid.UUID]) -> Any:
    """Agents see what the account's visibility rule lets them see (owners and admins everything):
    ``assigned``, their own work; ``team``, their teams' (``conversations.visibility.agents_see``)."""
    if role in SEE_ALL_ROLES:
        return None
    rule = agents_see(account)
    if rule == "assigned":
        return ReportDimension.agent_id == agent_id
    if rule == "team":
        return ReportDimension.team_id.in_(team_ids or [uuid.UUID(int=1)])
    return None


def _column(group_by: str) -> Any:
    return {
        "agent": ReportDimension.agent_id,
        "team": ReportDimension.team_id,
        "inbox": ReportDimension.inbox_id,
        "channel": ReportDimension.channel,
        "label": ReportDimension.label,
    }[group_by]


async def _names(session: AsyncSession, group_by: str, keys: set[Any]) -> dict[Any, str]:
    ids = [k for k in keys if isinstance(k, uuid.UUID) and k != NONE_ID]
    if group_by == "agent" and ids:
        return dict((await session.execute(select(User.id, User.name).where(User.id.in_(ids)))).all())
    if group_by == "team" and ids:
        return dict((await session.execute(select(Team.id, Team.name).where(Team.id.in_(ids)))).all())
    if group_by == "inbox" and ids:
        return dict((await session.execute(select(Inbox.id, Inbox.name).where(Inbox.id.in_(ids)))).all())
    return {}


async def summary(
    session: AsyncSession,
    account_id: uuid.UUID,
    since: datetime,
    until: datetime,
    group_by: str,
    restrict: Any = None,
) -> list[dict[str, Any]]:
    """The groups of the summary: from ``report_groups`` (one query over a row per group and day, hourly rows
    at the range's ragged ends) or, for an agent who sees only some of the work (``restrict``), from the
    per-dimension rollups filtered by it. Both hold the same counts, so both give the same figures. The session
    is scoped to the account."""
    require_tenant(session, account_id)
    if restrict is None:
        counts, quantiles = await _from_groups(session, account_id, since, until, group_by)
    else:
        counts, quantiles = await _from_dimensions(session, since, until, group_by, restrict)
    names = await _names(session, group_by, set(counts))
    groups = []
    for key, c in counts.items():
        group: dict[str, Any] = {
            "key": None if key in (NONE_ID, "") else str(key),
            "label": _label(group_by, key, names),
            "conversations_opened": c["conversations_opened"],
            "conversations_resolved": c["conversations_resolved"],
            "messages_in": c["messages_in"],
            "messages_out": c["messages_out"],
        }
        for field, metric in DURATIONS.items():
            median, p90 = quantiles(key, METRICS[metric])
            group[field] = {"median": _round(median), "p90": _round(p90)}
        group["sla_attainment"] = (
            round(100.0 * c["sla_met"] / c["sla_conversations"], 1) if c["sla_conversations"] else None
        )
        group["csat_average"] = round(c["csat_sum"] / c["csat_responses"], 2) if c["csat_responses"] else None
        group["csat_responses"] = c["csat_responses"]
        groups.append(group)
    groups.sort(key=lambda g: (g["key"] is None, str(g["label"]).lower(), str(g["key"])))
    return groups


Counts = dict[Any, dict[str, int]]
Quantiles = Callable[[Any, int], tuple[float | None, float | None]]


def spans(since: datetime, until: datetime) -> tuple[tuple[datetime, datetime], list[tuple[datetime, datetime]]]:
    """The UTC days wholly inside the range's hours ``[since, until)`` (as ``[first, end)``, empty when none)
    and the hour ranges left at its ends. The range holds the hours starting at or after ``since`` floored to
    its hour and before ``until`` (the hourly rollups' rule), i.e. the UTC hours ``[low, high)``."""
    low = _ceil_hour(_hour_floor(since).astimezone(UTC))
    high = _ceil_hour(until.astimezone(UTC))
    first = _ceil_day(low)
    end = high.replace(hour=0)
    if first >= end:
        return (low, low), [(low, high)] if low < high else []
    return (first, end), [(a, b) for a, b in ((low, first), (end, high)) if a < b]


def _ceil_hour(moment: datetime) -> datetime:
    floor = moment.replace(minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(hours=1)


def _ceil_day(moment: datetime) -> datetime:
    floor = moment.replace(hour=0)
    return floor if floor == moment else floor + timedelta(days=1)


async def _from_groups(
    session: AsyncSession, account_id: uuid.UUID, since: datetime, until: datetime, group_by: str
) -> tuple[Counts, Quantiles]:
    (first, end), hours = spans(since, until)
    periods = [and_(ReportGroup.span == "hour", ReportGroup.start >= a, ReportGroup.start < b) for a, b in hours]
    if first < end:
        periods.append(and_(ReportGroup.span == "day", ReportGroup.start >= first, ReportGroup.start < end))
    if not periods:
        return {}, lambda _key, _metric: (None, None)
    # One row per group: PostgreSQL sums the counters and concatenates the group's histograms (``string_agg``
    # of bytea, a copy: concatenated histograms add up), and numpy reads the bytes as they come. Core, not the
    # ORM (no entities to load: the account is in the WHERE clause).
    statement = (
        select(
            ReportGroup.key,
            *(func.sum(getattr(ReportGroup, name)).cast(BigInteger) for name in SUMMED),
            *(
                func.string_agg(getattr(ReportGroup, name), literal_column("''::bytea"), type_=LargeBinary)
                for name in HISTOGRAM_COLUMNS.values()
            ),
        )
        .where(ReportGroup.account_id == account_id, ReportGroup.group_by == group_by, or_(*periods))
        .group_by(ReportGroup.key)
    )
    rows = (await (await session.connection()).execute(statement)).all()
    counts: Counts = {}
    histograms: dict[tuple[Any, int], bytes] = {}
    typed = group_by in ("agent", "team", "inbox")
    width = len(SUMMED)
    for row in rows:
        key = uuid.UUID(row[0]) if typed else row[0]
        counts[key] = {name: int(value) for name, value in zip(SUMMED, row[1 : 1 + width], strict=True)}
        for metric, packed in zip(HISTOGRAM_COLUMNS, row[1 + width :], strict=True):
            histograms[(key, metric)] = cast(bytes, packed)

    def quantiles(key: Any, metric: int) -> tuple[float | None, float | None]:
        median, p90 = histogram.merged_quantiles(histogram.unpack(histograms.get((key, metric), b"")), (0.5, 0.9))
        return median, p90

    return counts, quantiles


async def _from_dimensions(
    session: AsyncSession, since: datetime, until: datetime, group_by: str, restrict: Any
) -> tuple[Counts, Quantiles]:
    column = _column(group_by)
    where = [
        ReportRollup.hour >= _hour_floor(since),
        ReportRollup.hour < until,
        ReportDimension.label != "" if group_by == "label" else ReportDimension.label == "",
        restrict,
    ]
    totals = (
        await session.execute(
            select(column, *(func.sum(getattr(ReportRollup, name)) for name in SUMMED))
            .join(ReportDimension, ReportDimension.id == ReportRollup.dimension_id)
            .where(*where)
            .group_by(column)
        )
    ).all()
    hist_where = [
        ReportHistogram.hour >= _hour_floor(since),
        ReportHistogram.hour < until,
        *where[2:],
    ]
    bins = (
        await session.execute(
            select(column, ReportHistogram.metric, ReportHistogram.bin, func.sum(ReportHistogram.count))
            .join(ReportDimension, ReportDimension.id == ReportHistogram.dimension_id)
            .where(*hist_where)
            .group_by(column, ReportHistogram.metric, ReportHistogram.bin)
        )
    ).all()
    counts: Counts = {row[0]: dict(zip(SUMMED, (int(v or 0) for v in row[1:]), strict=True)) for row in totals}
    distributions: dict[Any, dict[int, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    for key, metric, bin_, n in bins:
        distributions[key][metric].append((bin_, int(n)))
        counts.setdefault(key, dict.fromkeys(SUMMED, 0))

    def quantiles(key: Any, metric: int) -> tuple[float | None, float | None]:
        values = distributions.get(key, {}).get(metric, [])
        return histogram.quantile(values, 0.5), histogram.quantile(values, 0.9)

    return counts, quantiles


def _label(group_by: str, key: Any, names: dict[Any, str]) -> str:
    if key == NONE_ID or key is None:
        return NONE_LABELS.get(group_by, "")
    if isinstance(key, uuid.UUID):
        return names.get(key, "Deleted" if group_by != "inbox" else "Deleted inbox")
    return str(key)


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def _hour_floor(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0) if moment.utcoffset() is not None else moment


CSV_COLUMNS = (
    "key",
    "label",
    "conversations_opened",
    "conversations_resolved",
    "messages_in",
    "messages_out",
    "first_response_seconds_median",
    "first_response_seconds_p90",
    "resolution_seconds_median",
    "resolution_seconds_p90",
    "queue_wait_seconds_median",
    "queue_wait_seconds_p90",
    "sla_attainment",
    "csat_average",
    "csat_responses",
)


def to_csv(groups: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for g in groups:
        flat = {**g}
        for field in DURATIONS:
            flat[f"{field}_median"] = g[field]["median"]
            flat[f"{field}_p90"] = g[field]["p90"]
        writer.writerow(["" if flat.get(c) is None else _safe(flat.get(c)) for c in CSV_COLUMNS])
    return out.getvalue()


def _safe(value: Any) -> Any:
    # A spreadsheet runs a cell starting with = + - @ as a formula: names are quoted out of that.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


async def team_ids_of(session: AsyncSession, agent_id: uuid.UUID) -> list[uuid.UUID]:
    return list((await session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == agent_id))).all())
