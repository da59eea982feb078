"""Access/portability export: one ZIP (``data.json`` + ``attachments/``) behind an expiring signed link. The
ZIP is kept in the attachment store (``{account}/exports/{request}.zip``), so any replica serves the link and
an S3 deployment keeps no file on a pod's disk.

``data.json`` format (version 1): ``{"format": "switchboard.subject-export", "version": 1,
"generated_at": ISO-8601, "request_id": uuid, "tables": {table: [row, ...]}, "attachments": [path, ...]}``
where every row is the stored row with uuids and times as strings (binary columns are left out)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import tempfile
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.domain.privacy.models import PrivacyRequest
from switchboard_common.infra import signing
from switchboard_common.infra.attachments import AttachmentStore, StoredObject, export_key
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.runtime import Resources

from switchboard_privacy.settings import PrivacySettings
from switchboard_privacy.stores import postgres
from switchboard_privacy.stores.subject import Subject


def sign(settings: PrivacySettings, request_id: uuid.UUID, expires: int) -> str:
    message = f"export:{request_id}:{expires}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def signed_link(settings: PrivacySettings, request_id: uuid.UUID) -> dict[str, Any]:
    expires = int(time.time()) + settings.privacy_export_link_seconds
    url = f"/api/v1/privacy/exports/{request_id}?expires={expires}&signature={sign(settings, request_id, expires)}"
    return {"url": url, "expires_at": expires}


def verify(settings: PrivacySettings, request_id: uuid.UUID, expires: int, signature: str) -> bool:
    return expires >= time.time() and signing.digests_equal(sign(settings, request_id, expires), signature)


def _write_zip(path: Path, document: dict[str, Any], files: list[tuple[str, bytes]]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(document, indent=2, default=str))
        for name, content in files:
            archive.writestr(name, content)


async def build(
    resources: Resources, settings: PrivacySettings, request: PrivacyRequest, subject: Subject
) -> dict[str, int]:
    async with cross_tenant_session(resources.sessionmaker) as session:
        tables = await postgres.export(session, subject)
    store = resources.attachments
    objects: list[tuple[uuid.UUID, StoredObject]] = [
        (c, o) for c in subject.contact_ids for o in await store.list_contact(subject.account_id, c)
    ]
    files = [(f"attachments/{c}/{o.name}", await store.get(o.key)) for c, o in objects]
    document = {
        "format": "switchboard.subject-export",
        "version": 1,
        "generated_at": utcnow().isoformat(),
        "request_id": str(request.id),
        "tables": tables,
        "attachments": [name for name, _ in files],
    }
    with tempfile.TemporaryDirectory(prefix="switchboard-export-") as folder:
        path = Path(folder) / "export.zip"
        await asyncio.to_thread(_write_zip, path, document, files)
        # One PUT of the finished file: a crash never leaves a half ZIP behind a link.
        await store.put_file(export_key(subject.account_id, request.id), path)
    return {"rows": sum(len(rows) for rows in tables.values()), "attachments": len(files)}


async def delete_exports_of(
    store: AttachmentStore,
    sessionmaker: async_sessionmaker[AsyncSession],
    account_id: uuid.UUID,
    contact_ids: list[uuid.UUID],
) -> int:
    """Erasure: access exports made earlier for any of these contacts are copies of them too."""
    wanted = [str(c) for c in contact_ids]
    async with cross_tenant_session(sessionmaker) as session:
        requests = list(
            await session.scalars(
                text(
                    "SELECT id FROM privacy_requests WHERE account_id = :a AND type = 'access' "
                    "AND jsonb_exists_any(contact_ids, CAST(:ids AS text[]))"
                ),
                {"a": account_id, "ids": wanted},
            )
        )
    keys = [export_key(account_id, r) for r in requests]
    present = [k for k in keys if await store.exists(k)]
    return await store.delete(present)
