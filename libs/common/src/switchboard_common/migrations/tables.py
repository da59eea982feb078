"""Every table of every domain, and the outbox: the metadata the migrations must build (alembic's
``target_metadata`` and the drift test)."""

from __future__ import annotations

import switchboard_common.domain  # noqa: F401 - registers every domain's tables
from switchboard_common.infra import outbox  # noqa: F401 - registers the outbox table
from switchboard_common.infra.db.base import Base

metadata = Base.metadata
