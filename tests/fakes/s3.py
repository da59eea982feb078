"""A real S3-compatible server for tests (moto's server mode over HTTP, in a thread or as its own process), and
a byte scan of a bucket that reads every stored version and opens ZIP archives, for the forensic tests."""

from __future__ import annotations

import io
import logging
import sys
import uuid
import zipfile
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer
from switchboard_common.infra.attachments import S3AttachmentStore
from switchboard_devstack import free_port
from switchboard_devstack.servers import ManagedServer

REGION = "us-east-1"


class S3ServerProcess(ManagedServer):
    """moto's S3 server as its own process: for a server under load from other processes (the broker's
    storage in the fault tests), where a thread in the test process would compete with the test for the GIL."""

    name = "s3"

    def command(self) -> list[str]:
        return [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def create_bucket(self, bucket: str) -> None:
        client = boto3.client(
            "s3", endpoint_url=self.url, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test"
        )
        client.create_bucket(Bucket=bucket)

    def tansu_env(self) -> dict[str, str]:
        """What tansu's S3 storage engine reads (the object_store crate's AWS_* variables)."""
        return {
            "AWS_ENDPOINT": self.url,
            "AWS_ALLOW_HTTP": "true",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
        }


class S3Server:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    def start(self) -> None:
        # The request log names object keys (ids); tests keep it out of their output.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def store(self, bucket: str) -> S3AttachmentStore:
        return S3AttachmentStore(
            bucket=bucket,
            endpoint_url=self.url,
            region=REGION,
            access_key_id="test",
            secret_access_key="test",
            addressing_style="path",
        )

    async def create_bucket(self, *, versioned: bool = False) -> str:
        bucket = f"attachments-{uuid.uuid4().hex[:12]}"
        store = self.store(bucket)
        client = await store.client()
        await client.create_bucket(Bucket=bucket)
        if versioned:
            await client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        await store.close()
        return bucket

    def env(self, bucket: str) -> dict[str, str]:
        return {
            "ATTACHMENTS_BACKEND": "s3",
            "S3_ENDPOINT_URL": self.url,
            "S3_BUCKET": bucket,
            "S3_REGION": REGION,
            "S3_ACCESS_KEY_ID": "test",
            "S3_SECRET_ACCESS_KEY": "test",
            "S3_ADDRESSING_STYLE": "path",
        }

    async def scan(self, bucket: str) -> str:
        """Every key and every version's bytes (ZIP members opened), as one searchable text."""
        store = self.store(bucket)
        client = await store.client()
        parts: list[str] = []
        paginator = client.get_paginator("list_object_versions")
        async for page in paginator.paginate(Bucket=bucket):
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                parts.append(item["Key"])
                if "Size" not in item:
                    continue  # a delete marker holds no bytes
                response = await client.get_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
                async with response["Body"] as body:
                    parts.append(readable(await body.read()))
        await store.close()
        return "\n".join(parts)


def readable(content: bytes) -> str:
    """The bytes as text, with a ZIP archive's members decompressed (exports are deflated)."""
    parts = [content.decode("utf-8", "replace")]
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts += [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
    return "\n".join(parts)
