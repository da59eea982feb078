"""python -m switchboard_ops backup --target DIR_OR_S3_URL
python -m switchboard_ops restore --from ARCHIVE
python -m switchboard_ops expire --target DIR_OR_S3_URL
python -m switchboard_ops directory [--host 0.0.0.0] [--port 8004]   (the global directory of several regions)

Settings come from the environment, as for the services (``DATABASE_URL``, ``ENCRYPTION_KEYS``, ``BACKUP_KEY``,
``BACKUP_RETENTION_DAYS``, ``ERASURE_LEDGER_URL``, ``DATA_DIR``, ``ATTACHMENTS_BACKEND``, ``S3_*``). ``backup``
prints the new archive's path or URL as its last line; every failure is one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from switchboard_common.infra.logging import configure_logging
from switchboard_common.infra.settings import ConfigurationError, load_settings

from switchboard_ops.settings import OpsSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m switchboard_ops")
    sub = parser.add_subparsers(dest="command", required=True)
    backup_parser = sub.add_parser("backup", help="write an encrypted backup archive of this region")
    backup_parser.add_argument("--target", help="directory or s3://bucket/prefix (default BACKUP_TARGET)")
    restore_parser = sub.add_parser("restore", help="restore an empty database from an archive")
    restore_parser.add_argument("--from", dest="source", required=True, help="archive path or s3:// URL")
    expire_parser = sub.add_parser("expire", help="delete archives older than BACKUP_RETENTION_DAYS")
    expire_parser.add_argument("--target", help="directory or s3://bucket/prefix (default BACKUP_TARGET)")
    directory_parser = sub.add_parser("directory", help="serve the global region directory (REGIONS, DIRECTORY_*)")
    directory_parser.add_argument("--host", default="0.0.0.0")
    directory_parser.add_argument("--port", type=int, default=8004)
    args = parser.parse_args(argv)

    settings = load_settings(OpsSettings)
    if args.command == "directory":
        return _directory(settings, args.host, args.port)
    configure_logging(settings.log_level, json_output=settings.log_json, service="ops")
    try:
        if args.command == "backup":
            return asyncio.run(_backup(settings, args.target or settings.backup_target))
        if args.command == "restore":
            return asyncio.run(_restore(settings, args.source))
        return asyncio.run(_expire(settings, args.target or settings.backup_target))
    except (ConfigurationError, RuntimeError, ValueError, OSError) as exc:
        print(f"switchboard_ops: {args.command} failed: {exc}", file=sys.stderr, flush=True)
        return 1


async def _backup(settings: OpsSettings, target: str) -> int:
    from switchboard_ops.backup import backup

    if not target:
        raise ConfigurationError("give --target DIR_OR_S3_URL (or set BACKUP_TARGET)")
    result = await backup(settings, target)
    for name in result.expired:
        print(f"expired {name}", flush=True)
    print(result.location, flush=True)
    return 0


async def _restore(settings: OpsSettings, source: str) -> int:
    from switchboard_ops.restore import restore

    result = await restore(settings, source)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(result.ledger["counts"].items()) if v) or "nothing to erase"
    print(f"restored backup of {result.manifest['created_at']} (region {result.manifest['region']})", flush=True)
    print(f"attachments restored: {result.attachments}", flush=True)
    print(f"erasure ledger replayed: {result.ledger['entries']} entries; {counts}", flush=True)
    print("restored", flush=True)
    return 0


async def _expire(settings: OpsSettings, target: str) -> int:
    from switchboard_common.infra.attachments import store_at
    from switchboard_common.infra.db.base import utcnow

    from switchboard_ops.backup import expire

    if not target:
        raise ConfigurationError("give --target DIR_OR_S3_URL (or set BACKUP_TARGET)")
    store = store_at(target, settings)
    try:
        expired = await expire(store, settings, utcnow())
    finally:
        await store.close()
    for name in expired:
        print(f"expired {name}", flush=True)
    print(f"{len(expired)} expired", flush=True)
    return 0


def _directory(settings: OpsSettings, host: str, port: int) -> int:
    from switchboard_common.infra.directory_server import create_directory_app
    from switchboard_common.infra.service import serve

    configure_logging(settings.log_level, json_output=settings.log_json, service="directory")
    asyncio.run(serve([(create_directory_app(settings), host, port)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
