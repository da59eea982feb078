"""The erasure ledger: what erasures, agent deletions and account purges removed, kept outside the backups.

A backup taken before an erasure still holds the person. So that restoring it cannot bring them back, every
erasure first writes a ledger entry -- keyed hashes (HMAC-SHA256) of the erased subjects (``contact:{id}``,
``user:{id}``, ``account:{id}``) and of the event keys it destroys -- to ``ERASURE_LEDGER_URL`` (a directory or
``s3://bucket/prefix``; default ``DATA_DIR/erasure-ledger``), which no backup contains.
``python -m switchboard_ops restore`` replays the ledger (:func:`replay`) before the restored region serves
traffic: whatever the restored database holds that hashes to a ledger entry is erased again.

The ledger holds no personal data: keyed pseudonyms (``switchboard_common.infra.pseudonyms``, under the
installation's ``PSEUDONYM_KEY``, else one derived from ``SECRET_KEY``), the kind of erasure, its request id
and time. Without the key a hash cannot be tested against a guessed id, and once the rows are gone a hash
points at nothing. Each entry names the fingerprint of its key, so a replay under another key is refused
instead of silently matching nothing.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.domain.encryption.shredding import destroy_subject_keys
from switchboard_common.infra.attachments import AttachmentStore, store_at
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.pseudonyms import Pseudonyms
from switchboard_common.infra.settings import CommonSettings

log = structlog.get_logger(__name__)

LEDGER_FORMAT = "switchboard.erasure-ledger"
LEDGER_VERSION = 1
EntryKind = Literal["erasure", "agent_deletion", "account_purge"]
PURPOSE = "erasure-ledger"


class LedgerKeyMismatch(RuntimeError):
    """Ledger entries written under another key: replaying them would match nothing."""


def ledger_location(settings: CommonSettings) -> str:
    return settings.erasure_ledger_url or str(Path(settings.data_dir) / "erasure-ledger")


@dataclass(frozen=True)
class LedgerEntry:
    kind: EntryKind
    recorded_at: datetime
    request_id: str | None
    subjects: frozenset[str]
    keys: frozenset[str]
    key_fingerprint: str

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "format": LEDGER_FORMAT,
                "version": LEDGER_VERSION,
                "kind": self.kind,
                "recorded_at": self.recorded_at.isoformat(),
                "request_id": self.request_id,
                "key_fingerprint": self.key_fingerprint,
                "subjects": sorted(self.subjects),
                "keys": sorted(self.keys),
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> LedgerEntry:
        data = json.loads(raw)
        if data.get("format") != LEDGER_FORMAT or data.get("version") != LEDGER_VERSION:
            raise ValueError("not an erasure ledger entry of a known version")
        return cls(
            kind=data["kind"],
            recorded_at=datetime.fromisoformat(data["recorded_at"]),
            request_id=data.get("request_id"),
            subjects=frozenset(data["subjects"]),
            keys=frozenset(data["keys"]),
            key_fingerprint=data["key_fingerprint"],
        )


class ErasureLedger:
    """Append-only entries, one object each (``{kind}/{request or random id}.json``)."""

    def __init__(self, store: AttachmentStore, pseudonyms: Pseudonyms) -> None:
        self.store = store
        self._pseudonyms = pseudonyms
        self.key_fingerprint = pseudonyms.digest(PURPOSE, "key fingerprint", hex_chars=16)

    @classmethod
    def from_settings(cls, settings: CommonSettings) -> ErasureLedger:
        return cls(store_at(ledger_location(settings), settings), Pseudonyms.from_settings(settings))

    def digest(self, ref: str) -> str:
        return self._pseudonyms.digest(PURPOSE, ref)

    async def record(
        self,
        kind: EntryKind,
        *,
        subjects: Iterable[str],
        keys: Iterable[str] = (),
        request_id: uuid.UUID | None = None,
        once_per: str | None = None,
    ) -> LedgerEntry:
        """Writes an entry (refs are hashed here; the refs themselves are never stored). A request's entry, or
        one ``once_per`` a ref (hashed into its name), has a fixed name: a retry rewrites it, never adds one."""
        entry = LedgerEntry(
            kind=kind,
            recorded_at=utcnow(),
            request_id=str(request_id) if request_id else None,
            subjects=frozenset(self.digest(ref) for ref in subjects),
            keys=frozenset(self.digest(ref) for ref in keys),
            key_fingerprint=self.key_fingerprint,
        )
        name = request_id or (self.digest(once_per)[:32] if once_per else uuid.uuid4())
        await self.store.put_object(f"{kind}/{name}.json", entry.to_json())
        return entry

    async def entries(self) -> list[LedgerEntry]:
        found = []
        for stored in await self.store.list(""):
            if stored.key.endswith(".json"):
                found.append(LedgerEntry.from_json(await self.store.get(stored.key)))
        return found

    async def prune(self, older_than: datetime) -> int:
        """Entries no backup can need any more: every backup taken before them has expired."""
        old = [o.key for o in await self.store.list("") if o.modified < older_than]
        return await self.store.delete(old)

    async def close(self) -> None:
        await self.store.close()


@dataclass
class ReplayReport:
    entries: int = 0
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def as_dict(self) -> dict[str, Any]:
        return {"entries": self.entries, "counts": dict(self.counts)}


async def replay(
    sessionmaker: async_sessionmaker[AsyncSession], attachments: AttachmentStore, ledger: ErasureLedger
) -> ReplayReport:
    """Erases again, in a restored database and attachment store, everything the ledger says was erased:
    contacts (every row about them, their files), event keys (Kafka copies stay unreadable), deleted agents'
    profiles and purged accounts. One transaction for the rows; files after it."""
    from switchboard_privacy.lifecycle.agents import erase_agent_rows
    from switchboard_privacy.lifecycle.sweep import delete_account_rows
    from switchboard_privacy.requests import exports
    from switchboard_privacy.stores import postgres
    from switchboard_privacy.stores.subject import load_subject

    entries = await ledger.entries()
    report = ReplayReport(entries=len(entries))
    foreign = {e.key_fingerprint for e in entries} - {ledger.key_fingerprint}
    if foreign:
        raise LedgerKeyMismatch(
            f"{len(foreign)} ledger key(s) differ from this installation's (PSEUDONYM_KEY or SECRET_KEY changed?); "
            "nothing replayed"
        )
    subjects = set().union(*(e.subjects for e in entries)) if entries else set()
    keys = set().union(*(e.keys for e in entries)) if entries else set()
    # Every account's rows: the replay is a sweep over the whole restored installation.
    async with cross_tenant_session(sessionmaker) as session:
        accounts = await session.scalars(text("SELECT id FROM accounts"))
        purged_accounts = [a for a in accounts if ledger.digest(f"account:{a}") in subjects]
        erased_contacts = [
            (account_id, contact_id)
            for contact_id, account_id in (await session.execute(text("SELECT id, account_id FROM contacts"))).all()
            if ledger.digest(f"contact:{contact_id}") in subjects and account_id not in purged_accounts
        ]
    by_account: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for account_id, contact_id in erased_contacts:
        by_account[account_id].append(contact_id)
    # Access exports about them first: they are found through the requests the row erasure clears.
    for account_id, contact_ids in by_account.items():
        report.counts["exports"] += await exports.delete_exports_of(attachments, sessionmaker, account_id, contact_ids)
    async with cross_tenant_session(sessionmaker) as session, session.begin():
        for account_id in purged_accounts:
            for table, count in (await delete_account_rows(session, account_id)).items():
                report.counts[f"account_{table}"] += count
        for account_id, contact_ids in by_account.items():
            subject = await load_subject(session, account_id, contact_ids)
            for table, count in (await postgres.erase(session, subject)).items():
                report.counts[table] += count
        report.counts["contacts_erased"] = len(erased_contacts)
        report.counts["accounts_purged"] = len(purged_accounts)
        refs = [r for r in await session.scalars(text("SELECT ref FROM subject_keys")) if ledger.digest(r) in keys]
        report.counts["subject_keys"] = await destroy_subject_keys(session, refs)
        for user_id in (await session.execute(text("SELECT id FROM users"))).scalars().all():
            if ledger.digest(f"user:{user_id}") in subjects:
                await erase_agent_rows(session, user_id)
                report.counts["agents"] += 1
    for account_id, contact_id in erased_contacts:
        report.counts["files"] += await attachments.delete_contact(account_id, contact_id)
    for account_id in purged_accounts:
        report.counts["files"] += await attachments.delete_account(account_id)
    log.info("erasure_ledger_replayed", count=report.entries)
    return report
