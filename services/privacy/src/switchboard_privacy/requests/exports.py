"""Access/portability export: one ZIP (``data.json`` + ``attachments/``) behind an expiring signed link.

``data.json`` format (version 1): ``{"format": "switchboard.subject-export", "version": 1,
"generated_at": ISO-8601, "request_id": uuid, "tables": {table: [row, ...]}, "attachments": [path, ...]}``
where every row is the stored row with uuids and times as strings (binary columns are left out)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

from switchboard_common.attachments import LocalAttachmentStore
from switchboard_common.db.base import utcnow
from switchboard_common.db.models import PrivacyRequest
from switchboard_common.runtime import Resources

from switchboard_privacy.settings import PrivacySettings
from switchboard_privacy.stores import postgres
from switchboard_privacy.stores.subject import Subject


def export_path(settings: PrivacySettings, request_id: uuid.UUID) -> Path:
    return Path(settings.data_dir) / "exports" / f"{request_id}.zip"


def sign(settings: PrivacySettings, request_id: uuid.UUID, expires: int) -> str:
    message = f"export:{request_id}:{expires}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def signed_link(settings: PrivacySettings, request_id: uuid.UUID) -> dict[str, Any]:
    expires = int(time.time()) + settings.privacy_export_link_seconds
    url = f"/api/v1/privacy/exports/{request_id}?expires={expires}&signature={sign(settings, request_id, expires)}"
    return {"url": url, "expires_at": expires}


def verify(settings: PrivacySettings, request_id: uuid.UUID, expires: int, signature: str) -> bool:
    return expires >= time.time() and hmac.compare_digest(sign(settings, request_id, expires), signature)


async def build(
    resources: Resources, settings: PrivacySettings, request: PrivacyRequest, subject: Subject
) -> dict[str, int]:
    async with resources.sessionmaker() as session:
        tables = await postgres.export(session, subject)
    store = LocalAttachmentStore.from_settings(settings)
    files = [(c, p) for c in subject.contact_ids for p in store.list_contact(subject.account_id, c)]
    path = export_path(settings, request.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    document = {
        "format": "switchboard.subject-export",
        "version": 1,
        "generated_at": utcnow().isoformat(),
        "request_id": str(request.id),
        "tables": tables,
        "attachments": [f"attachments/{c}/{p.name}" for c, p in files],
    }
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(document, indent=2, default=str))
        for contact_id, file in files:
            archive.write(file, f"attachments/{contact_id}/{file.name}")
    partial.replace(path)  # atomic: a crash never leaves a half ZIP behind a link
    return {"rows": sum(len(rows) for rows in tables.values()), "attachments": len(files)}
