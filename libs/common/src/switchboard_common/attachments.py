"""Attachment storage: a local directory (``DATA_DIR/attachments``), objects laid out by account and
contact (``{account}/{contact}/{object}``) so one contact's files are erased or exported by prefix."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from switchboard_common.settings import CommonSettings


class LocalAttachmentStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def from_settings(cls, settings: CommonSettings) -> LocalAttachmentStore:
        return cls(Path(settings.data_dir) / "attachments")

    def _dir(self, account_id: uuid.UUID, contact_id: uuid.UUID) -> Path:
        return self.root / str(account_id) / str(contact_id)

    def put(self, account_id: uuid.UUID, contact_id: uuid.UUID, data: bytes) -> str:
        """Stores bytes under a random object id (never the user's file name: it may be personal)."""
        object_id = uuid.uuid4().hex
        folder = self._dir(account_id, contact_id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / object_id).write_bytes(data)
        return f"{account_id}/{contact_id}/{object_id}"

    def list_contact(self, account_id: uuid.UUID, contact_id: uuid.UUID) -> list[Path]:
        folder = self._dir(account_id, contact_id)
        return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []

    def delete_contact(self, account_id: uuid.UUID, contact_id: uuid.UUID) -> int:
        files = self.list_contact(account_id, contact_id)
        shutil.rmtree(self._dir(account_id, contact_id), ignore_errors=True)
        return len(files)

    def delete_account(self, account_id: uuid.UUID) -> int:
        folder = self.root / str(account_id)
        count = sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
        shutil.rmtree(folder, ignore_errors=True)
        return count
