"""Re-encryption sweep after a key rotation: ``python -m switchboard_common.domain.encryption.rekey [--dry-run]``.

Rotation, step by step (docs/security.md): put the new key first in ``ENCRYPTION_KEYS`` and keep the old
ones; roll every service (new writes use the new key, old values still decrypt); run this sweep; when it
reports nothing left under old keys, drop the old keys from ``ENCRYPTION_KEYS`` and roll again.

The sweep walks every column of :data:`switchboard_common.domain.encryption.columns.REGISTRY`. Per column it reads
rows whose value is not under the primary key, in primary-key order and small batches, each batch in its own
transaction with the rows locked (``FOR UPDATE``), so a concurrent writer waits for the batch instead of
being overwritten. Each value is decrypted with its row's associated data and encrypted under the primary
key. Already rotated rows are never selected again, so the sweep is idempotent and can be stopped and
rerun at any time. It prints counts per column, never a value; a value no key opens is counted as failed,
left as it is, and makes the exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.domain.encryption.columns import REGISTRY, EncryptedColumn
from switchboard_common.infra.crypto import DecryptionError, Keyring
from switchboard_common.infra.db import create_engine, create_sessionmaker
from switchboard_common.infra.settings import CommonSettings, load_settings

DEFAULT_BATCH = 100


@dataclass
class ColumnReport:
    column: str
    total: int = 0  # rows with a value
    outdated: int = 0  # under another key than the primary one when the sweep looked
    rotated: int = 0  # re-encrypted under the primary key (0 in a dry run)
    failed: int = 0  # no key of the ring opens them

    def line(self, dry_run: bool) -> str:
        done = f"would re-encrypt {self.outdated - self.failed}" if dry_run else f"re-encrypted {self.rotated}"
        return f"{self.column}: {self.total} values, {self.outdated} under old keys, {done}, {self.failed} failed"


def _outdated(column: EncryptedColumn, primary_id: str) -> Any:
    prefix = primary_id.encode() + b"\x00"
    return func.substring(column.column, 1, len(prefix)) != prefix


async def _batch(
    session: AsyncSession, column: EncryptedColumn, keyring: Keyring, after: Any, size: int, *, dry_run: bool
) -> tuple[Any, int, int, int]:
    """One batch; returns (last key seen or None when done, outdated rows seen, rotated, failed)."""
    query = (
        select(column.key, column.column)
        .where(column.column.is_not(None), _outdated(column, keyring.primary_id))
        .order_by(column.key)
        .limit(size)
    )
    if after is not None:
        query = query.where(column.key > after)
    if not dry_run:
        query = query.with_for_update()
    rows = (await session.execute(query)).all()
    rotated = failed = 0
    for key, blob in rows:
        aad = column.aad(key)
        try:
            plain = keyring.decrypt(bytes(blob), aad)
        except DecryptionError:
            failed += 1
            continue
        if not dry_run:
            await session.execute(
                update(column.column.class_)
                .where(column.key == key)
                .values({column.column.key: keyring.encrypt(plain, aad)})
            )
            rotated += 1
    return (rows[-1][0] if rows else None), len(rows), rotated, failed


async def rekey_column(
    sessionmaker: async_sessionmaker[AsyncSession],
    column: EncryptedColumn,
    keyring: Keyring,
    *,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH,
) -> ColumnReport:
    report = ColumnReport(column.name)
    # Every account's values: the sweep rotates the whole installation.
    async with cross_tenant_session(sessionmaker) as session:
        report.total = int(await session.scalar(select(func.count()).where(column.column.is_not(None))) or 0)
    after = None
    while True:
        async with cross_tenant_session(sessionmaker) as session, session.begin():
            after, seen, rotated, failed = await _batch(session, column, keyring, after, batch_size, dry_run=dry_run)
        report.outdated += seen
        report.rotated += rotated
        report.failed += failed
        if after is None or seen < batch_size:
            return report


async def rekey(
    sessionmaker: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    *,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH,
    columns: Sequence[EncryptedColumn] = REGISTRY,
) -> list[ColumnReport]:
    """Re-encrypts every registered column under the keyring's primary key (or counts, with ``dry_run``)."""
    return [
        await rekey_column(sessionmaker, column, keyring, dry_run=dry_run, batch_size=batch_size) for column in columns
    ]


async def _main(args: argparse.Namespace) -> int:
    settings = load_settings(CommonSettings)
    keyring = Keyring(settings.encryption_keyring)
    columns = [c for c in REGISTRY if not args.column or c.name in args.column]
    engine = create_engine(settings)
    try:
        reports = await rekey(
            create_sessionmaker(engine), keyring, dry_run=args.dry_run, batch_size=args.batch_size, columns=columns
        )
    finally:
        await engine.dispose()
    print(f"primary key: {keyring.primary_id}{' (dry run: nothing written)' if args.dry_run else ''}")
    for report in reports:
        print(report.line(args.dry_run))
    return 1 if any(r.failed for r in reports) else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m switchboard_common.domain.encryption.rekey",
        description="Re-encrypt every value encrypted with ENCRYPTION_KEYS under its first (primary) key.",
    )
    parser.add_argument("--dry-run", action="store_true", help="count what would be re-encrypted; write nothing")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, help="rows per transaction")
    parser.add_argument(
        "--column", action="append", choices=[c.name for c in REGISTRY], help="only this column (repeatable)"
    )
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
