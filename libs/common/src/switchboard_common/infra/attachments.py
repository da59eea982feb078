"""Attachment storage: a local directory (``DATA_DIR/attachments``, the default) or an S3-compatible bucket
(``ATTACHMENTS_BACKEND=s3``), behind one interface every reader and writer uses (channel downloads, access
exports, erasure, retention, account purge).

Objects are laid out by account and contact (``{account}/{contact}/{object}``) so one contact's files are
erased or exported by prefix, and one account's by ``{account}/``. Object names are random or derived from
platform ids, never from the user's file name (it may be personal). Access exports live under
``{account}/exports/{request}.zip``.
"""

from __future__ import annotations

import asyncio
import builtins  # the stores define a list() method, which shadows the builtin in their annotations
import contextlib
import re
import shutil
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from switchboard_common.infra.settings import CommonSettings

# Keys are "/"-separated parts of letters, digits, "-", "_" and "." (no part starts with a dot): no path
# traversal in the local store, the same names on every backend.
_KEY = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$")
_CHUNK = 1024 * 1024


class AttachmentStoreError(Exception):
    """The store refused an operation (the message carries the backend's error code, never content)."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified: datetime

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]


def check_key(key: str) -> str:
    if not _KEY.match(key) or len(key) > 512:
        raise ValueError("invalid attachment key")
    return key


def contact_prefix(account_id: uuid.UUID | str, contact_id: uuid.UUID | str) -> str:
    return f"{account_id}/{contact_id}/"


def export_key(account_id: uuid.UUID | str, request_id: uuid.UUID | str) -> str:
    return f"{account_id}/exports/{request_id}.zip"


class AttachmentStore(ABC):
    """Byte objects under keys. Implementations are safe to share within one event loop."""

    backend: str

    @abstractmethod
    async def put_object(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    async def put_file(self, key: str, path: Path) -> None:
        """Stores a local file's content (large exports) without reading it into memory at once."""

    @abstractmethod
    async def get(self, key: str) -> bytes: ...

    @abstractmethod
    def stream(self, key: str) -> AsyncIterator[bytes]:
        """The object's bytes in chunks; raises :class:`FileNotFoundError` before the first chunk if absent."""

    @abstractmethod
    async def exists(self, key: str) -> bool: ...

    @abstractmethod
    async def list(self, prefix: str) -> list[StoredObject]:
        """Objects whose key starts with ``prefix`` (a folder-like prefix ending in ``/``)."""

    @abstractmethod
    async def delete(self, keys: Sequence[str]) -> int:
        """Deletes the objects (every stored version of them); returns how many were asked for."""

    async def close(self) -> None:  # noqa: B027 - optional hook: only stores holding connections override it
        """Releases connections (nothing to release by default)."""

    # --- the layout -----------------------------------------------------------------------------------

    async def put(self, account_id: uuid.UUID, contact_id: uuid.UUID, data: bytes) -> str:
        """Stores bytes under a random object id in the contact's folder; returns the key."""
        key = f"{contact_prefix(account_id, contact_id)}{uuid.uuid4().hex}"
        await self.put_object(key, data)
        return key

    async def list_contact(self, account_id: uuid.UUID, contact_id: uuid.UUID) -> builtins.list[StoredObject]:
        return await self.list(contact_prefix(account_id, contact_id))

    async def delete_prefix(self, prefix: str) -> int:
        objects = await self.list(prefix)
        return await self.delete([o.key for o in objects])

    async def delete_contact(self, account_id: uuid.UUID, contact_id: uuid.UUID) -> int:
        return await self.delete_prefix(contact_prefix(account_id, contact_id))

    async def delete_account(self, account_id: uuid.UUID) -> int:
        return await self.delete_prefix(f"{account_id}/")

    async def delete_older_than(self, account_id: uuid.UUID, cutoff: datetime, *, dry_run: bool = False) -> int:
        """Retention: the account's objects last written before ``cutoff`` (only counted with ``dry_run``)."""
        old = [o.key for o in await self.list(f"{account_id}/") if o.modified < cutoff]
        if not dry_run:
            await self.delete(old)
        return len(old)


class LocalAttachmentStore(AttachmentStore):
    backend = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _put(self, key: str, write: Any) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target under a dot name (never listed) and renamed: readers never see half a file.
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            write(partial)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)

    async def put_object(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._put, key, lambda p: p.write_bytes(data))

    async def put_file(self, key: str, path: Path) -> None:
        await asyncio.to_thread(self._put, key, lambda p: shutil.copyfile(path, p))

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(self._path(key).open, "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, _CHUNK):
                yield chunk
        finally:
            handle.close()

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    def _list(self, prefix: str) -> list[StoredObject]:
        folder = self.root / check_key(prefix.rstrip("/")) if prefix.strip("/") else self.root
        if not folder.is_dir():
            return []
        found = []
        for path in folder.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                stat = path.stat()
                modified = datetime.fromtimestamp(stat.st_mtime, UTC)
                found.append(StoredObject(path.relative_to(self.root).as_posix(), stat.st_size, modified))
        return sorted(found, key=lambda o: o.key)

    async def list(self, prefix: str) -> list[StoredObject]:
        return await asyncio.to_thread(self._list, prefix)

    def _delete(self, keys: Sequence[str]) -> int:
        for key in keys:
            path = self._path(key)
            path.unlink(missing_ok=True)
            # Empty folders go too: a folder name is an id of the person.
            for parent in path.parents:
                if parent == self.root or not parent.is_relative_to(self.root):
                    break
                with contextlib.suppress(OSError):
                    parent.rmdir()
        return len(keys)

    async def delete(self, keys: Sequence[str]) -> int:
        return await asyncio.to_thread(self._delete, list(keys))


class S3AttachmentStore(AttachmentStore):
    """An S3-compatible bucket (AWS S3, MinIO, Ceph, ...), through aiobotocore. Credentials come from
    ``S3_ACCESS_KEY_ID``/``S3_SECRET_ACCESS_KEY`` or, when unset, botocore's usual chain (environment, web
    identity, instance role). Deletion removes every version of an object when the bucket keeps versions."""

    backend = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        key_prefix: str = "",
        addressing_style: str = "auto",
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.region = region
        self.access_key_id = access_key_id or None
        self.secret_access_key = secret_access_key or None
        self.key_prefix = key_prefix.strip("/") + "/" if key_prefix.strip("/") else ""
        self.addressing_style = addressing_style
        self._client: Any = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._lock = asyncio.Lock()
        self._versioned: bool | None = None

    async def client(self) -> Any:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                from aiobotocore.config import AioConfig
                from aiobotocore.session import get_session

                stack = contextlib.AsyncExitStack()
                self._client = await stack.enter_async_context(
                    get_session().create_client(
                        "s3",
                        endpoint_url=self.endpoint_url,
                        region_name=self.region,
                        aws_access_key_id=self.access_key_id,
                        aws_secret_access_key=self.secret_access_key,
                        config=AioConfig(
                            s3={"addressing_style": self.addressing_style},
                            retries={"max_attempts": 5, "mode": "standard"},
                            connect_timeout=10,
                            read_timeout=60,
                        ),
                    )
                )
                self._stack = stack
        return self._client

    async def close(self) -> None:
        if self._stack is not None:
            with contextlib.suppress(Exception):
                await self._stack.aclose()
        self._client = None
        self._stack = None

    def _full(self, key: str) -> str:
        return self.key_prefix + check_key(key)

    def _short(self, full: str) -> str:
        return full[len(self.key_prefix) :]

    @staticmethod
    def _code(exc: Exception) -> str:
        response = getattr(exc, "response", None) or {}
        return str((response.get("Error") or {}).get("Code") or type(exc).__name__)

    async def put_object(self, key: str, data: bytes) -> None:
        client = await self.client()
        await client.put_object(Bucket=self.bucket, Key=self._full(key), Body=data)

    async def put_file(self, key: str, path: Path) -> None:
        client = await self.client()
        size = (await asyncio.to_thread(path.stat)).st_size
        with path.open("rb") as body:
            await client.put_object(Bucket=self.bucket, Key=self._full(key), Body=body, ContentLength=size)

    async def _open(self, key: str) -> Any:
        from botocore.exceptions import ClientError

        client = await self.client()
        try:
            return await client.get_object(Bucket=self.bucket, Key=self._full(key))
        except ClientError as exc:
            if self._code(exc) in {"NoSuchKey", "404", "NotFound"}:
                raise FileNotFoundError(key) from None
            raise AttachmentStoreError(self._code(exc)) from None

    async def get(self, key: str) -> bytes:
        response = await self._open(key)
        async with response["Body"] as body:
            return bytes(await body.read())

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        response = await self._open(key)
        async with response["Body"] as body:
            while chunk := await body.read(_CHUNK):
                yield bytes(chunk)

    async def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        client = await self.client()
        try:
            await client.head_object(Bucket=self.bucket, Key=self._full(key))
        except ClientError as exc:
            if self._code(exc) in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise AttachmentStoreError(self._code(exc)) from None
        return True

    async def list(self, prefix: str) -> list[StoredObject]:
        client = await self.client()
        full_prefix = self.key_prefix + (check_key(prefix.rstrip("/")) + "/" if prefix.strip("/") else "")
        found: list[StoredObject] = []
        paginator = client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=full_prefix):
            for item in page.get("Contents", []):
                modified = item["LastModified"]
                found.append(StoredObject(self._short(item["Key"]), int(item["Size"]), modified.astimezone(UTC)))
        return sorted(found, key=lambda o: o.key)

    async def _bucket_keeps_versions(self) -> bool:
        if self._versioned is None:
            client = await self.client()
            status = (await client.get_bucket_versioning(Bucket=self.bucket)).get("Status")
            # "Suspended" buckets still hold the versions written while it was enabled.
            self._versioned = status in {"Enabled", "Suspended"}
        return self._versioned

    async def _delete_batch(self, objects: builtins.list[dict[str, str]]) -> None:
        client = await self.client()
        for start in range(0, len(objects), 1000):
            response = await client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": objects[start : start + 1000], "Quiet": True}
            )
            errors = response.get("Errors") or []
            if errors:
                raise AttachmentStoreError(str(errors[0].get("Code") or "delete_failed"))

    async def delete(self, keys: Sequence[str]) -> int:
        wanted = [self._full(k) for k in keys]
        if not wanted:
            return 0
        await self._delete_batch([{"Key": k} for k in wanted])
        if await self._bucket_keeps_versions():
            # A plain delete only adds a delete marker: remove every version (and marker) of these keys.
            client = await self.client()
            remaining = set(wanted)
            versions: builtins.list[dict[str, str]] = []
            paginator = client.get_paginator("list_object_versions")
            for folder in sorted({k.rsplit("/", 1)[0] + "/" for k in wanted}):
                async for page in paginator.paginate(Bucket=self.bucket, Prefix=folder):
                    for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                        if item["Key"] in remaining:
                            versions.append({"Key": item["Key"], "VersionId": item["VersionId"]})
            await self._delete_batch(versions)
        return len(wanted)


def create_attachment_store(settings: CommonSettings) -> AttachmentStore:
    """The store ``ATTACHMENTS_BACKEND`` selects (``local``: ``DATA_DIR/attachments``; ``s3``: ``S3_*``)."""
    if settings.attachments_backend == "s3":
        secret = settings.s3_secret_access_key
        return S3AttachmentStore(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret is not None else None,
            key_prefix=settings.s3_key_prefix,
            addressing_style=settings.s3_addressing_style,
        )
    return LocalAttachmentStore(Path(settings.data_dir) / "attachments")


def store_at(location: str, settings: CommonSettings) -> AttachmentStore:
    """An object store at ``location``: a directory, or ``s3://bucket/prefix`` reached with the ``S3_*``
    endpoint and credentials (backups and the erasure ledger live apart from the attachments)."""
    parts = urlsplit(location)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError("an s3:// location needs a bucket")
        secret = settings.s3_secret_access_key
        return S3AttachmentStore(
            bucket=parts.netloc,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret is not None else None,
            key_prefix=parts.path.strip("/"),
            addressing_style=settings.s3_addressing_style,
        )
    if parts.scheme not in ("", "file"):
        raise ValueError(f"unsupported location scheme {parts.scheme!r} (a directory or s3://bucket/prefix)")
    return LocalAttachmentStore(Path(parts.path if parts.scheme == "file" else location).absolute())


def describe_location(store: AttachmentStore, key: str) -> str:
    """Where an object of ``store`` is, as a user names it: a file path or an s3:// URL."""
    if isinstance(store, S3AttachmentStore):
        return f"s3://{store.bucket}/{store.key_prefix}{key}"
    assert isinstance(store, LocalAttachmentStore)
    return str(store.root / key)


__all__ = [
    "AttachmentStore",
    "AttachmentStoreError",
    "LocalAttachmentStore",
    "S3AttachmentStore",
    "StoredObject",
    "check_key",
    "contact_prefix",
    "create_attachment_store",
    "describe_location",
    "export_key",
    "store_at",
]
