"""``python -m switchboard_ops backup --target DIR_OR_S3_URL``: an encrypted archive of the region's
PostgreSQL (``pg_dump`` custom format, streamed: no plaintext copy touches the disk) and, with the local
attachment backend, its attachment files (an S3 bucket keeps its own versions). Then backups older than
``BACKUP_RETENTION_DAYS`` are deleted from the target, and erasure ledger entries no remaining backup can
need. Returns the new archive's path or URL."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import structlog
from sqlalchemy import text
from switchboard_common.domain.accounts.tenancy import cross_tenant
from switchboard_common.domain.encryption.columns import REGISTRY
from switchboard_common.infra.attachments import (
    AttachmentStore,
    LocalAttachmentStore,
    create_attachment_store,
    describe_location,
    store_at,
)
from switchboard_common.infra.db import RESTORE_GATE_TABLE, create_engine
from switchboard_common.infra.db.base import utcnow
from switchboard_privacy.ledger import ErasureLedger

from switchboard_ops import postgres
from switchboard_ops.archive import ArchiveWriter
from switchboard_ops.settings import OpsSettings

log = structlog.get_logger(__name__)

SUFFIX = ".sbbackup"
ARCHIVE_NAME = re.compile(r"^switchboard-(?P<region>[a-z0-9-]+)-(?P<at>\d{8}T\d{6}Z)-[0-9a-f]{8}\.sbbackup$")
MANIFEST = "manifest.json"
DUMP = "postgres.dump"
ATTACHMENTS = "attachments/"
_CHUNK = 1 << 20
# Ledger entries are kept this much longer than backups: clocks and schedules are never exact.
LEDGER_MARGIN = timedelta(days=2)


class BackupFailed(RuntimeError):
    """A backup could not be taken or sealed; the message says which step (never a secret)."""


def region_label(settings: OpsSettings) -> str:
    return getattr(settings, "region", "") or "default"


def archive_name(region: str, at: datetime) -> str:
    return f"switchboard-{region}-{at:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}{SUFFIX}"


def taken_at(name: str) -> datetime | None:
    found = ARCHIVE_NAME.match(name)
    if found is None:
        return None
    return datetime.strptime(found["at"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


async def _manifest(settings: OpsSettings, created: datetime) -> dict[str, Any]:
    """What a restore checks before it starts: the schema revision, and which ``ENCRYPTION_KEYS`` ids the
    dump's encrypted columns need (ids only)."""
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            revisions = sorted(await conn.scalars(text("SELECT version_num FROM alembic_version")))
            key_ids: set[str] = set()
            for column in REGISTRY:
                table, name = column.name.split(".")
                # Every account's rows: the manifest lists the key ids the whole dump needs.
                found = await conn.scalars(
                    cross_tenant(
                        text(
                            f"SELECT DISTINCT substring({name} FROM 1 FOR position('\\x00'::bytea IN {name}) - 1) "  # noqa: S608 - registry names
                            f"FROM {table} WHERE {name} IS NOT NULL"
                        )
                    )
                )
                key_ids |= {bytes(k).decode(errors="replace") for k in found if k}
    finally:
        await engine.dispose()
    return {
        "format": "switchboard.backup-manifest",
        "version": 1,
        "created_at": created.isoformat(),
        "expires_at": (created + timedelta(days=settings.backup_retention_days)).isoformat(),
        "region": region_label(settings),
        "schema_revisions": revisions,
        "encryption_key_ids": sorted(key_ids),
        "attachments": settings.attachments_backend,
    }


async def _dump_into(writer: ArchiveWriter, settings: OpsSettings) -> None:
    proc = await asyncio.create_subprocess_exec(
        postgres.binary("pg_dump"),
        "--format=custom",
        "--no-owner",
        "--no-privileges",
        f"--exclude-table={RESTORE_GATE_TABLE}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
        env=postgres.child_environment(settings.database_url),
    )
    assert proc.stdout is not None and proc.stderr is not None
    errors = asyncio.create_task(proc.stderr.read())
    writer.begin(DUMP)
    while chunk := await proc.stdout.read(_CHUNK):
        writer.write(chunk)
    code = await proc.wait()
    message = (await errors).decode(errors="replace").strip().splitlines()
    if code != 0:
        # pg_dump's own words (they name tables and settings, never row data or the password).
        raise BackupFailed(f"pg_dump exited with {code}: {message[-1] if message else 'no message'}")


async def _attachments_into(writer: ArchiveWriter, store: AttachmentStore) -> int:
    count = 0
    for stored in await store.list(""):
        writer.begin(ATTACHMENTS + stored.key, modified=stored.modified.isoformat())
        async for chunk in store.stream(stored.key):
            writer.write(chunk)
        count += 1
    return count


@dataclass
class BackupResult:
    location: str
    name: str
    expired: list[str]
    ledger_pruned: int


async def _write_archive(out: IO[bytes], settings: OpsSettings, created: datetime) -> None:
    key_id, key = settings.backup_keyring[0]
    writer = ArchiveWriter(
        out, key_id=key_id, backup_key=key, meta={"created_at": created.isoformat(), "region": region_label(settings)}
    )
    writer.begin(MANIFEST)
    writer.write(json.dumps(await _manifest(settings, created), indent=2).encode())
    await _dump_into(writer, settings)
    attachments = create_attachment_store(settings)
    try:
        if attachments.backend == "local":
            await _attachments_into(writer, attachments)
    finally:
        await attachments.close()
    writer.finish()


async def backup(settings: OpsSettings, target: str, *, now: datetime | None = None) -> BackupResult:
    settings.backup_keyring  # noqa: B018 - refuse early, before any work, when BACKUP_KEY is missing
    created = now or utcnow()
    name = archive_name(region_label(settings), created)
    store = store_at(target, settings)
    try:
        if isinstance(store, LocalAttachmentStore):
            store.root.mkdir(parents=True, exist_ok=True)
            partial = store.root / f".{name}.part"
            try:
                with partial.open("wb") as out:
                    await _write_archive(out, settings, created)
                    out.flush()
                    os.fsync(out.fileno())
                partial.replace(store.root / name)
            finally:
                partial.unlink(missing_ok=True)
        else:
            # Encrypted before it touches the disk; uploaded once complete.
            with tempfile.TemporaryDirectory(prefix="switchboard-backup-") as folder:
                path = Path(folder) / name
                with path.open("wb") as out:
                    await _write_archive(out, settings, created)
                await store.put_file(name, path)
        expired = await expire(store, settings, created, keep=name)
        ledger = ErasureLedger.from_settings(settings)
        try:
            pruned = await ledger.prune(created - timedelta(days=settings.backup_retention_days) - LEDGER_MARGIN)
        finally:
            await ledger.close()
        location = describe_location(store, name)
    finally:
        await store.close()
    log.info("backup_written", count=len(expired))
    return BackupResult(location=location, name=name, expired=expired, ledger_pruned=pruned)


async def expire(store: AttachmentStore, settings: OpsSettings, now: datetime, *, keep: str = "") -> list[str]:
    """Deletes this region's archives taken more than ``BACKUP_RETENTION_DAYS`` before ``now`` (by the time in
    their name, which copying does not change)."""
    cutoff = now - timedelta(days=settings.backup_retention_days)
    region = region_label(settings)
    old = []
    for stored in await store.list(""):
        found = ARCHIVE_NAME.match(stored.name)
        at = taken_at(stored.name)
        if found and found["region"] == region and at is not None and at < cutoff and stored.key != keep:
            old.append(stored.key)
    await store.delete(old)
    return old
