"""The global directory (docs/operations.md, "Regions"): (kind, key) -> region, and nothing else.

One small process for the whole installation (``python -m switchboard_ops directory``; a Deployment with a
volume in Kubernetes). It stores no personal data: account and inbox ids are random UUIDs, Slack team and
Messenger page ids are the platforms' ids of businesses, and a login e-mail arrives only as a keyed pseudonym
(:func:`switchboard_common.infra.directory.email_key`). Entries live in one SQLite file
(``DIRECTORY_DATA_DIR``): a handful of writes per sign-up, reads mostly answered from the regions' caches.

API (bearer ``DIRECTORY_TOKEN``):

* ``GET /directory/v1/entries/{kind}/{key}`` -> ``{"region"}`` or 404;
* ``PUT`` with ``{"region"}`` claims it: 201 new, 200 already this region's, 409 another region's (its name in
  ``details.region``);
* ``DELETE ?region=`` releases it if that region holds it: 204, 404 unknown, 409 another region's.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import sqlite3
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from switchboard_common.infra.directory import KINDS, directory_token_of
from switchboard_common.infra.errors import error_response
from switchboard_common.infra.settings import REGION_NAME, CommonSettings

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    region TEXT NOT NULL,
    claimed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (kind, key)
)
"""


class DirectoryStore:
    """The entries, in SQLite; every call is one short transaction, serialized by a lock."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a claim answered is a claim kept
        self._db.execute(_SCHEMA)
        self._lock = asyncio.Lock()

    def close(self) -> None:
        self._db.close()

    async def get(self, kind: str, key: str) -> str | None:
        async with self._lock:
            row = self._db.execute("SELECT region FROM entries WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return str(row[0]) if row else None

    async def claim(self, kind: str, key: str, region: str) -> tuple[bool, str]:
        """(created, holder): the region holding the entry after the call."""
        async with self._lock:
            cursor = self._db.execute(
                "INSERT INTO entries (kind, key, region) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO NOTHING",
                (kind, key, region),
            )
            if cursor.rowcount == 1:
                return True, region
            row = self._db.execute("SELECT region FROM entries WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return False, str(row[0])

    async def release(self, kind: str, key: str, region: str) -> str | None:
        """Deletes the entry if ``region`` holds it; returns the holder before the call (None: unknown)."""
        async with self._lock:
            row = self._db.execute("SELECT region FROM entries WHERE kind = ? AND key = ?", (kind, key)).fetchone()
            if row and row[0] == region:
                self._db.execute("DELETE FROM entries WHERE kind = ? AND key = ?", (kind, key))
        return str(row[0]) if row else None

    async def count(self) -> int:
        async with self._lock:
            return int(self._db.execute("SELECT count(*) FROM entries").fetchone()[0])


def directory_path(settings: CommonSettings) -> Path:
    return Path(settings.directory_data_dir or Path(settings.data_dir) / "directory") / "directory.sqlite3"


def create_directory_app(settings: CommonSettings, store: DirectoryStore | None = None) -> Starlette:
    """The directory's HTTP API; ``store`` defaults to ``DIRECTORY_DATA_DIR``/directory.sqlite3."""
    entries = store or DirectoryStore(directory_path(settings))
    token = directory_token_of(settings).encode()
    regions = set(settings.region_names)

    def refused(request: Request) -> Response | None:
        given = request.headers.get("authorization", "")
        if given[:7].lower() != "bearer " or not hmac.compare_digest(given[7:].strip().encode(), token):
            return error_response(401, "unauthorized", "a valid directory token is required")
        kind, key = request.path_params["kind"], request.path_params["key"]
        if kind not in KINDS:
            return error_response(404, "unknown_kind", f"no entry kind {kind!r}", {"kinds": list(KINDS)})
        if not KEY_PATTERN.match(key):
            return error_response(422, "invalid_key", "keys are 1 to 128 of A-Z a-z 0-9 _ . : -")
        return None

    def region_of(value: Any) -> str | None:
        return (
            value if isinstance(value, str) and REGION_NAME.match(value) and (not regions or value in regions) else None
        )

    async def entry(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        kind, key = request.path_params["kind"], request.path_params["key"]
        if request.method == "GET":
            region = await entries.get(kind, key)
            if region is None:
                return error_response(404, "not_found", "no such entry")
            return JSONResponse({"kind": kind, "key": key, "region": region})
        if request.method == "PUT":
            try:
                body = await request.json()
            except ValueError:
                return error_response(400, "invalid_json", "the body must be JSON")
            region = region_of(body.get("region") if isinstance(body, dict) else None)
            if region is None:
                return error_response(422, "unknown_region", "region must name a region", {"regions": sorted(regions)})
            created, holder = await entries.claim(kind, key, region)
            if holder != region:
                return error_response(409, "taken", "another region holds this entry", {"region": holder})
            return JSONResponse({"kind": kind, "key": key, "region": holder}, status_code=201 if created else 200)
        region = region_of(request.query_params.get("region"))
        if region is None:
            return error_response(422, "unknown_region", "?region= must name a region", {"regions": sorted(regions)})
        held_by = await entries.release(kind, key, region)
        if held_by is None:
            return error_response(404, "not_found", "no such entry")
        if held_by != region:
            return error_response(409, "taken", "another region holds this entry", {"region": held_by})
        return Response(status_code=204)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        await entries.count()
        return JSONResponse({"status": "ready"})

    app = Starlette(
        routes=[
            Route("/directory/v1/entries/{kind}/{key}", entry, methods=["GET", "PUT", "DELETE"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ]
    )
    app.state.store = entries
    return app
