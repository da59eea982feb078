"""Encrypted backups (``python -m switchboard_ops backup|restore``), run as an operator runs them: the archive
holds no readable personal data and not its key; a restore brings an empty database back; an erasure, an agent
deletion and an account purge made after the backup are replayed from the erasure ledger, so the restored
region never shows those people again, while a control subject is intact; backups expire."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from switchboard_common.domain.accounts.tenancy import cross_tenant
from switchboard_common.infra.attachments import LocalAttachmentStore
from switchboard_common.infra.db import RESTORE_GATE_TABLE
from switchboard_common.infra.settings import CommonSettings
from switchboard_devstack import LocalStack
from switchboard_devstack.servers import StackUrls
from switchboard_ops.archive import MAGIC, ArchiveReader
from switchboard_ops.backup import DUMP, backup, expire
from switchboard_ops.postgres import binary
from switchboard_ops.restore import RestoreRefused, restore
from switchboard_ops.settings import OpsSettings

from tests.fakes.s3 import S3Server
from tests.helpers.api import Socket, create_agent, create_web_inbox, signup, visitor_session
from tests.helpers.live import LiveServer, live_server
from tests.helpers.privacy import wait_status
from tests.helpers.scan import scan_directory, scan_kafka, scan_postgres

BACKUP_KEY_BYTES = os.urandom(32)
BACKUP_KEY = "b1:" + base64.b64encode(BACKUP_KEY_BYTES).decode()


class Person:
    def __init__(self, label: str) -> None:
        tag = uuid.uuid4().hex[:12]
        self.name = f"Backup{label}{tag}"
        self.email = f"backup{label.lower()}{tag}@example.org"  # stored as written: intake lower-cases addresses
        self.texts = [f"backed up {label} words {tag}", f"more {label} words {tag}"]
        self.attachment = f"BACKED UP FILE {label} {tag}".encode()
        self.contact_id = ""
        self.conversation_id = ""

    def needles(self) -> list[str]:
        return [self.name, self.email, *self.texts, self.attachment.decode()]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("backup-data")


@pytest.fixture(scope="module")
async def system(stack_urls: StackUrls, data_dir: Path) -> AsyncIterator[LiveServer]:
    async with live_server(
        stack_urls,
        DATA_DIR=str(data_dir),
        SUBJECT_KEY_CACHE_SECONDS="0.3",
        PRIVACY_WORKER_INTERVAL_SECONDS="0.2",
        PRIVACY_RETRY_BASE_SECONDS="0.2",
    ) as live:
        yield live


def ops(command: list[str], env: dict[str, str]) -> list[str]:
    """Runs ``python -m switchboard_ops`` as an operator would; returns its output lines."""
    result = subprocess.run(
        [sys.executable, "-m", "switchboard_ops", *command],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().splitlines()


def ops_fails(command: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "switchboard_ops", *command],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stderr


def fresh_database(stack: LocalStack) -> tuple[str, str]:
    assert stack.postgres is not None
    name = f"restored_{uuid.uuid4().hex[:8]}"
    stack.postgres.create_database(name)
    return name, stack.postgres.url(name)


async def converse(client: httpx.AsyncClient, inbox: dict[str, Any], agent: Socket, person: Person) -> None:
    visitor = await visitor_session(client, inbox["widget_token"], name=person.name, email=person.email)
    person.contact_id = visitor["contact_id"]
    headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
    for body in person.texts:
        response = await client.post("/api/v1/widget/messages", json={"text": body}, headers=headers)
        assert response.status_code == 202, response.text
    assigned = await agent.wait_for(
        lambda f: f["type"] == "conversation.assigned" and f["conversation"]["contact_id"] == person.contact_id
    )
    person.conversation_id = assigned["conversation"]["id"]


def dump_as_sql(archive: Path) -> str:
    """The positive control of every scan: with the key, the archive does hold the data."""
    reader = ArchiveReader(archive, [("b1", BACKUP_KEY_BYTES)])
    chunks: list[bytes] = []
    current = ""
    for kind, value in reader.events():
        if kind == "member":
            current = value["name"]
        elif current == DUMP:
            chunks.append(value)
    result = subprocess.run([binary("pg_restore"), "-f", "-"], input=b"".join(chunks), capture_output=True, check=True)
    return result.stdout.decode("utf-8", "replace")


async def test_backup_is_sealed_and_a_restore_replays_later_erasures(
    system: LiveServer, stack: LocalStack, stack_urls: StackUrls, data_dir: Path, tmp_path: Path
) -> None:
    env = {k: v for k, v in system.env.items()}
    env |= {"DATA_DIR": str(data_dir), "BACKUP_KEY": BACKUP_KEY}
    subject, control, ex_agent_name = Person("S"), Person("C"), f"Departing{uuid.uuid4().hex[:10]}"
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        doomed = await signup(client, name="Doomed account")
        inbox = await create_web_inbox(client, tenant)
        agent_id, agent_token = await create_agent(client, tenant, name=ex_agent_name)
        agent = await Socket.open(f"{system.ws_url}/api/v1/ws?token={agent_token}")
        await converse(client, inbox, agent, subject)
        await converse(client, inbox, agent, control)
        await agent.close()
        attachments = LocalAttachmentStore(data_dir / "attachments")
        account = uuid.UUID(tenant.account_id)
        await attachments.put(account, uuid.UUID(subject.contact_id), subject.attachment)
        await attachments.put(account, uuid.UUID(control.contact_id), control.attachment)
        engine = create_async_engine(system.env["DATABASE_URL"])
        async with engine.connect() as conn:
            for _ in range(150):
                stored = await conn.scalar(
                    cross_tenant(
                        text("SELECT count(*) FROM messages WHERE conversation_id = ANY(CAST(:ids AS uuid[]))")
                    ),
                    {"ids": [subject.conversation_id, control.conversation_id]},
                )
                if stored == 4:
                    break
                await conn.rollback()
                await asyncio.sleep(0.2)
        await engine.dispose()
        assert stored == 4

        lines = ops(["backup", "--target", str(tmp_path / "backups")], env)
        archive = Path(lines[-1])
        assert archive.is_file() and archive.parent == tmp_path / "backups"

        # After the backup: the subject is erased, the agent deleted, the doomed account purged.
        created = await client.post(
            "/api/v1/privacy/requests",
            json={"type": "erasure", "subject": {"email": subject.email}},
            headers=tenant.headers,
        )
        request_id = created.json()["id"]
        await client.post(f"/api/v1/privacy/requests/{request_id}/approve", headers=tenant.headers)
        done = await wait_status(client, tenant, request_id, "completed")
        assert done["progress"]["ledger"]["counts"]["subjects"] == 1
        certificate = (
            await client.get(f"/api/v1/privacy/requests/{request_id}/certificate", headers=tenant.headers)
        ).json()
        expires = datetime.fromisoformat(certificate["backups"]["last_copy_expires_by"])
        completed = datetime.fromisoformat(certificate["completed_at"])
        assert certificate["backups"]["retention_days"] == 30
        assert expires - completed == timedelta(days=30)
        deleted = await client.delete(f"/api/v1/privacy/agents/{agent_id}", headers=tenant.headers)
        assert deleted.status_code == 200, deleted.text
    privacy = system.apps["privacy"]
    from switchboard_privacy.lifecycle.sweep import purge_account

    await purge_account(privacy.state.resources, privacy.state.settings, uuid.UUID(doomed.account_id))  # type: ignore[attr-defined]

    # The archive: no readable personal data, no key; with the key (positive control) it holds them all.
    raw = archive.read_bytes().decode("latin-1")
    for needle in [*subject.needles(), *control.needles(), subject.contact_id, doomed.email, ex_agent_name]:
        assert needle not in raw, f"the archive holds {needle!r} in clear"
    for secret in (BACKUP_KEY_BYTES.decode("latin-1"), BACKUP_KEY.split(":")[1], base64.b16encode(BACKUP_KEY_BYTES)):
        assert (secret if isinstance(secret, str) else secret.decode()) not in raw
    sql = dump_as_sql(archive)
    assert all(n in sql for n in [subject.name, subject.email, *subject.texts, control.email, doomed.email])
    header = ArchiveReader(archive, [("b1", BACKUP_KEY_BYTES)]).header
    assert header["key_id"] == "b1" and "salt" in header and not {"key", "backup_key"} & set(header)

    # Restore into an empty database and an empty attachment directory; the ledger stays where it was.
    name, url = fresh_database(stack)
    restored_dir = tmp_path / "restored"
    restore_env = env | {
        "DATABASE_URL": url,
        "DATA_DIR": str(restored_dir),
        "ERASURE_LEDGER_URL": str(data_dir / "erasure-ledger"),
    }
    lines = ops(["restore", "--from", str(archive)], restore_env)
    assert lines[-1] == "restored"
    assert "erasure ledger replayed" in "\n".join(lines)

    dump = await scan_postgres(stack, url, name)
    for needle in [*subject.needles(), subject.contact_id, doomed.email, doomed.account_id, ex_agent_name]:
        assert needle not in dump, f"the restored database brought back {needle!r}"
    for needle in [control.name, control.email, *control.texts]:
        assert needle in dump, f"the control subject's {needle!r} was not restored"
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        refs = set(await conn.scalars(text("SELECT ref FROM subject_keys")))
        gate = await conn.scalar(text(f"SELECT to_regclass('{RESTORE_GATE_TABLE}')"))
        name_now = await conn.scalar(
            cross_tenant(text("SELECT name FROM users WHERE id = :id")), {"id": uuid.UUID(agent_id)}
        )
    await engine.dispose()
    # Texts are sealed under their conversation's key (contact fields under the person's profile key): the
    # subject's keys stay destroyed, the control's conversation key came back with its rows.
    assert not {f"contact:{subject.contact_id}", f"conversation:{subject.conversation_id}"} & refs
    assert f"conversation:{control.conversation_id}" in refs
    assert gate is None, "the restore gate is dropped once the ledger is replayed"
    assert name_now == "Deleted agent"
    # Kafka's copies, opened with the keys the restored database holds: the subject stays shredded.
    settings = CommonSettings(**{k.lower(): v for k, v in system.env.items()})
    kafka = await scan_kafka(settings, url)
    assert not [t for t in subject.texts if t in kafka] and subject.name not in kafka
    assert all(t in kafka for t in control.texts)
    files = scan_directory(restored_dir / "attachments")
    assert subject.attachment.decode() not in files and subject.contact_id not in files
    assert control.attachment.decode() in files


def settings_of(env: dict[str, str]) -> OpsSettings:
    return OpsSettings(**{k.lower(): v for k, v in env.items()})


async def test_restore_refuses_a_tampered_archive_a_wrong_key_and_a_database_in_use(
    system: LiveServer, stack: LocalStack, data_dir: Path, tmp_path: Path
) -> None:
    env = dict(system.env) | {"DATA_DIR": str(data_dir), "BACKUP_KEY": BACKUP_KEY}
    archive = Path((await backup(settings_of(env), str(tmp_path))).location)
    _name, empty = fresh_database(stack)
    tampered = tmp_path / "tampered.sbbackup"
    content = bytearray(archive.read_bytes())
    content[len(content) // 2] ^= 0x01
    tampered.write_bytes(bytes(content))
    truncated = tmp_path / "truncated.sbbackup"
    truncated.write_bytes(archive.read_bytes()[:-200])
    # Cut at a frame boundary (the end frame dropped): every frame left opens alone, the end check does not.
    whole = archive.read_bytes()
    offset = len(MAGIC) + 4 + int.from_bytes(whole[len(MAGIC) : len(MAGIC) + 4], "big")
    boundaries = []
    while offset < len(whole):
        boundaries.append(offset)
        offset += 4 + int.from_bytes(whole[offset : offset + 4], "big")
    unended = tmp_path / "unended.sbbackup"
    unended.write_bytes(whole[: boundaries[-1]])
    other_key = "b1:" + base64.b64encode(os.urandom(32)).decode()
    missing = "b2:" + base64.b64encode(os.urandom(32)).decode()
    for source, overrides, reason in (
        (tampered, {}, "tampered"),
        (truncated, {}, "truncated"),
        (unended, {}, "tampered"),
        (archive, {"BACKUP_KEY": other_key}, "does not open"),
        (archive, {"BACKUP_KEY": missing}, "no key 'b1'"),
        (archive, {"ENCRYPTION_KEYS": "k9:" + base64.b64encode(os.urandom(32)).decode()}, "lacks key(s) dev"),
    ):
        with pytest.raises(RestoreRefused, match=re.escape(reason)):
            await restore(settings_of(env | {"DATABASE_URL": empty, **overrides}), str(source))
    with pytest.raises(RestoreRefused, match="not empty"):
        await restore(settings_of(env), str(archive))  # the live database
    # Nothing was restored by any refusal, and the command says why in one line.
    engine = create_async_engine(empty)
    async with engine.connect() as conn:
        assert (
            await conn.scalar(text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")) == 0
        )
    await engine.dispose()
    assert "BACKUP_KEY is not set" in ops_fails(["backup", "--target", str(tmp_path)], env | {"BACKUP_KEY": ""})


async def test_backups_expire_and_the_ledger_forgets_what_no_backup_needs(
    system: LiveServer, data_dir: Path, tmp_path: Path
) -> None:
    env = dict(system.env) | {"DATA_DIR": str(data_dir), "BACKUP_KEY": BACKUP_KEY, "BACKUP_RETENTION_DAYS": "30"}
    target = tmp_path / "backups"
    target.mkdir()
    now = datetime.now(UTC)
    old = target / f"switchboard-default-{now - timedelta(days=31):%Y%m%dT%H%M%SZ}-0000aaaa.sbbackup"
    recent = target / f"switchboard-default-{now - timedelta(days=29):%Y%m%dT%H%M%SZ}-0000bbbb.sbbackup"
    other_region = target / f"switchboard-us-{now - timedelta(days=40):%Y%m%dT%H%M%SZ}-0000cccc.sbbackup"
    for path in (old, recent, other_region):
        path.write_bytes(b"archive")
    ledger = data_dir / "erasure-ledger" / "erasure"
    ledger.mkdir(parents=True, exist_ok=True)
    stale, kept = ledger / f"{uuid.uuid4()}.json", ledger / f"{uuid.uuid4()}.json"
    for path, age in ((stale, 33), (kept, 31)):
        path.write_text("{}")
        stamp = (now - timedelta(days=age)).timestamp()
        os.utime(path, (stamp, stamp))
    result = await backup(settings_of(env), str(target))
    assert result.expired == [old.name]
    assert not old.exists() and recent.exists() and other_region.exists() and Path(result.location).exists()
    assert not stale.exists() and kept.exists()
    kept.unlink()  # not an entry the other tests' restores should read
    store = LocalAttachmentStore(target)
    assert await expire(store, settings_of(env | {"BACKUP_RETENTION_DAYS": "1"}), now) == [recent.name]


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    server = S3Server()
    server.start()
    yield server
    server.stop()


async def test_backup_to_s3_and_restore_from_its_url(
    system: LiveServer, stack: LocalStack, data_dir: Path, tmp_path: Path, s3: S3Server
) -> None:
    bucket = await s3.create_bucket()
    s3_env = {k: v for k, v in s3.env(bucket).items() if k.startswith("S3_")}
    env = dict(system.env) | {"DATA_DIR": str(data_dir), "BACKUP_KEY": BACKUP_KEY, **s3_env}
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client, name="S3 backed")
    url = (await backup(settings_of(env), f"s3://{bucket}/nightly/eu")).location
    assert url.startswith(f"s3://{bucket}/nightly/eu/switchboard-default-") and url.endswith(".sbbackup")
    assert tenant.email not in await s3.scan(bucket)
    name, restored = fresh_database(stack)
    restore_env = env | {"DATABASE_URL": restored, "DATA_DIR": str(tmp_path / "restored")}
    restore_env["ERASURE_LEDGER_URL"] = str(data_dir / "erasure-ledger")
    await restore(settings_of(restore_env), url)
    assert tenant.email in await scan_postgres(stack, restored, name)
