"""Business hours per inbox: ``{"timezone": "Europe/Paris", "weekly": {"mon": [["09:00", "17:30"]], ...}}``.

A day missing from ``weekly`` is closed; no ``business_hours`` at all means always open. An interval that
ends before it starts runs past midnight (``["22:00", "06:00"]``: a night shift starting that day); one that
ends when it starts lasts 24 hours (``["00:00", "00:00"]``: the whole day).
"""

from __future__ import annotations

import importlib.resources
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def timezones() -> tuple[str, ...]:
    """The IANA zones the deployment knows in any environment (the tzdata package ships with us)."""
    return tuple(sorted(importlib.resources.files("tzdata").joinpath("zones").read_text().split()))


def _intervals(config: dict[str, Any], day: str) -> list[tuple[time, time]]:
    result = []
    for start, end in (config.get("weekly") or {}).get(day, []):
        result.append((time.fromisoformat(start), time.fromisoformat(end)))
    return result


def _zone(config: dict[str, Any]) -> ZoneInfo:
    try:
        return ZoneInfo(str(config.get("timezone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _covers(start: time, end: time, moment: time, *, started_today: bool) -> bool:
    """Whether an interval that starts on some day covers ``moment`` on that day (``started_today``) or, for an
    interval past midnight, on the next day."""
    if start < end:
        return started_today and start <= moment < end
    if started_today:
        return moment >= start
    return moment < end  # the part after midnight of yesterday's night shift or 24 hours


def is_open(config: dict[str, Any] | None, now: datetime) -> bool:
    if not config:
        return True
    local = now.astimezone(_zone(config))
    today, yesterday = DAYS[local.weekday()], DAYS[(local.weekday() - 1) % 7]
    moment = local.time()
    return any(_covers(s, e, moment, started_today=True) for s, e in _intervals(config, today)) or any(
        _covers(s, e, moment, started_today=False) for s, e in _intervals(config, yesterday)
    )


def next_opening(config: dict[str, Any] | None, now: datetime) -> datetime | None:
    """The next moment the inbox opens (UTC), within a week; None when never open."""
    if not config:
        return now
    zone = _zone(config)
    local = now.astimezone(zone)
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        for start, _end in sorted(_intervals(config, DAYS[day.weekday()])):
            candidate = datetime.combine(day, start, tzinfo=zone)
            if candidate > local:
                return candidate.astimezone(UTC)
    return None


def validate(config: dict[str, Any]) -> None:
    """Raises ValueError with a readable message for a malformed configuration."""
    if not isinstance(config, dict):
        raise ValueError("business_hours must be an object")
    try:
        ZoneInfo(str(config.get("timezone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("unknown timezone") from exc
    weekly = config.get("weekly") or {}
    if not isinstance(weekly, dict) or not set(weekly) <= set(DAYS):
        raise ValueError("weekly must map mon..sun to lists of [start, end]")
    for intervals in weekly.values():
        for interval in intervals:
            if not (isinstance(interval, list | tuple) and len(interval) == 2):
                raise ValueError("each interval is [start, end]")
            for value in interval:
                time.fromisoformat(str(value))
