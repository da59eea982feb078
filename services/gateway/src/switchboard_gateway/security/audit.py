"""Security audit: the shared recorder (switchboard_common.domain.accounts.security_audit), under the gateway's name."""

from __future__ import annotations

from switchboard_common.domain.accounts.security_audit import by, event, record, record_now

__all__ = ["by", "event", "record", "record_now"]
