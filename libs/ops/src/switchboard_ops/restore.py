"""``python -m switchboard_ops restore --from ARCHIVE``: brings the empty database ``DATABASE_URL`` names (and,
with the local backend, the attachment directory) back from a backup archive, then replays the erasure ledger,
all before the region serves traffic.

Order: the whole archive is verified first (a damaged or tampered archive restores nothing); the manifest is
checked against this installation (``ENCRYPTION_KEYS`` must hold every key the dump's secrets are wrapped
with); the database must be empty. A gate table is created first: while it exists every service reports not
ready (``switchboard_common.infra.runtime``). ``pg_restore`` runs in one transaction, the attachments are put
back, the erasure ledger is replayed (whoever was erased after the backup is erased again), and only then is
the gate dropped."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import structlog
from sqlalchemy import text
from switchboard_common.infra.attachments import AttachmentStore, create_attachment_store, store_at
from switchboard_common.infra.db import RESTORE_GATE_TABLE, create_engine, create_sessionmaker
from switchboard_privacy.ledger import ErasureLedger, replay

from switchboard_ops import postgres
from switchboard_ops.archive import ArchiveError, ArchiveReader
from switchboard_ops.backup import ATTACHMENTS, DUMP, MANIFEST
from switchboard_ops.settings import OpsSettings

log = structlog.get_logger(__name__)


class RestoreRefused(RuntimeError):
    """A restore will not start or continue: wrong key, a tampered archive, or a database already in use."""


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    attachments: int
    ledger: dict[str, Any]


@contextlib.asynccontextmanager
async def local_copy(source: str, settings: OpsSettings) -> AsyncIterator[Path]:
    """The archive as a local file: an s3:// URL is downloaded (still encrypted) to a temporary directory."""
    parts = urlsplit(source)
    if parts.scheme != "s3":
        path = Path(source)
        if not await asyncio.to_thread(path.is_file):
            raise RestoreRefused(f"no archive at {source}")
        yield path
        return
    folder, _, name = parts.path.strip("/").rpartition("/")
    store = store_at(f"s3://{parts.netloc}/{folder}", settings)
    try:
        with tempfile.TemporaryDirectory(prefix="switchboard-restore-") as tmp:
            path = Path(tmp) / "archive"
            with path.open("wb") as out:
                try:
                    async for chunk in store.stream(name):
                        out.write(chunk)
                except FileNotFoundError:
                    raise RestoreRefused(f"no archive at {source}") from None
            yield path
    finally:
        await store.close()


def _check_keys(manifest: dict[str, Any], settings: OpsSettings) -> None:
    have = {key_id for key_id, _ in settings.encryption_keyring}
    missing = sorted(set(manifest.get("encryption_key_ids", [])) - have)
    if missing:
        raise RestoreRefused(
            f"ENCRYPTION_KEYS lacks key(s) {', '.join(missing)} the backup's secrets are wrapped with; add them first"
        )


async def _check_empty(settings: OpsSettings) -> None:
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            tables = list(
                await conn.scalars(
                    text(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                        "AND table_name <> :gate"
                    ),
                    {"gate": RESTORE_GATE_TABLE},
                )
            )
            if tables:
                raise RestoreRefused(
                    f"the database DATABASE_URL names is not empty ({len(tables)} tables); restore needs an empty one"
                )
            await conn.execute(
                text(f"CREATE TABLE IF NOT EXISTS {RESTORE_GATE_TABLE} (started_at timestamptz DEFAULT now())")
            )
    finally:
        await engine.dispose()


async def _drop_gate(settings: OpsSettings) -> None:
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP TABLE IF EXISTS {RESTORE_GATE_TABLE}"))
    finally:
        await engine.dispose()


async def _restore_members(reader: ArchiveReader, settings: OpsSettings, attachments: AttachmentStore) -> int:
    """One pass: the dump into pg_restore (one transaction), attachment files into the store."""
    proc = await asyncio.create_subprocess_exec(
        postgres.binary("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        "--dbname",
        postgres.libpq_environment(settings.database_url)["PGDATABASE"],
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=postgres.child_environment(settings.database_url),
    )
    assert proc.stdin is not None and proc.stderr is not None
    errors = asyncio.create_task(proc.stderr.read())
    current = ""
    files = 0
    pending: list[bytes] = []

    async def flush_file() -> None:
        nonlocal files
        if current.startswith(ATTACHMENTS):
            await attachments.put_object(current[len(ATTACHMENTS) :], b"".join(pending))
            files += 1
        pending.clear()

    try:
        for kind, value in reader.events():
            if kind == "member":
                await flush_file()
                if current == DUMP:
                    proc.stdin.close()
                current = str(value["name"])
            elif current == DUMP:
                proc.stdin.write(value)
                await proc.stdin.drain()
            elif current.startswith(ATTACHMENTS):
                pending.append(value)
        await flush_file()
        if not proc.stdin.is_closing():
            proc.stdin.close()
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    code = await proc.wait()
    message = (await errors).decode(errors="replace").strip().splitlines()
    if code != 0:
        raise RestoreRefused(f"pg_restore exited with {code}: {message[-1] if message else 'no message'}")
    return files


async def restore(settings: OpsSettings, source: str) -> RestoreResult:
    async with local_copy(source, settings) as path:
        try:
            reader = ArchiveReader(path, settings.backup_keyring)
            members = reader.verify()
            manifest = json.loads(reader.member(MANIFEST))
        except ArchiveError as exc:
            raise RestoreRefused(str(exc)) from None
        if DUMP not in members:
            raise RestoreRefused("the archive holds no database dump")
        _check_keys(manifest, settings)
        await _check_empty(settings)
        attachments = create_attachment_store(settings)
        ledger = ErasureLedger.from_settings(settings)
        engine = create_engine(settings)
        try:
            files = await _restore_members(reader, settings, attachments)
            # Before the gate opens: whoever was erased since the backup is erased again.
            report = await replay(create_sessionmaker(engine), attachments, ledger)
        finally:
            await engine.dispose()
            await ledger.close()
            await attachments.close()
    await _drop_gate(settings)
    log.info("backup_restored", count=files)
    return RestoreResult(manifest=manifest, attachments=files, ledger=report.as_dict())
