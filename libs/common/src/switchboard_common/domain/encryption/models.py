"""Per-subject data keys of crypto-shredding, wrapped with the service keyring."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from switchboard_common.infra.db.base import Base, utcnow


class SubjectKey(Base):
    """A data subject's key for the personal fields of events (crypto-shredding,
    switchboard_common.domain.encryption.shredding)."""

    __tablename__ = "subject_keys"
    # Read by subject ref by the event codec of every service, for events of every account; never served to an
    # account's users (tenancy: not scoped; account_id is there for the account purge).
    __tenant_scoped__ = False

    ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    # Wrapped with the keyring, bound to ``ref``. NULL is an erasure fence: the key was destroyed and none may be
    # created under this ref again (records sealed meanwhile get a throwaway key), see shredding.fence_subject_keys.
    key_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
