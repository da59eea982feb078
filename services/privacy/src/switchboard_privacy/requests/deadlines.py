"""Deadlines: the account's choice (default 7 days), never later than the law allows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

# GDPR Art. 12(3): one month (taken as 30 days); CCPA: 45 days.
LEGAL_MAX_DAYS = {"gdpr": 30, "ccpa": 45}


def deadline_days(account_settings: dict[str, Any], default_days: int) -> int:
    privacy = account_settings.get("privacy") or {}
    wanted = int(privacy.get("deadline_days") or default_days)
    return max(1, min(wanted, min(LEGAL_MAX_DAYS.values())))


def due_at(received_at: datetime, account_settings: dict[str, Any], default_days: int) -> datetime:
    return received_at + timedelta(days=deadline_days(account_settings, default_days))
