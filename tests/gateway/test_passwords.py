"""Passwords are argon2id at OWASP's floor, hashed in niced worker processes that stop with the app; a hash
made with older parameters is replaced at the next login; and admission is bounded: a burst beyond it is
refused at once with 429 too_many_logins and Retry-After while agent sockets keep answering."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from switchboard_common.domain.accounts.tenancy import cross_tenant
from switchboard_common.infra.errors import AppError
from switchboard_devstack.processes import child_pids
from switchboard_devstack.servers import StackUrls
from switchboard_gateway.accounts.argon2_worker import HashParameters
from switchboard_gateway.accounts.passwords import PasswordHashing
from switchboard_gateway.settings import GatewaySettings
from websockets.asyncio.client import ClientConnection, connect

from tests.helpers.api import create_agent, login, signup
from tests.helpers.live import live_server

PASSWORD = "correct horse battery"  # what tests.helpers.api.signup gives the owner
AGENT_PASSWORD = "agent password 1"  # and create_agent each agent
OWASP_PREFIX = "$argon2id$v=19$m=19456,t=2,p=1$"


def _hash_workers() -> set[int]:
    """This process's password-hashing workers (multiprocessing's spawned children; not its resource tracker)."""
    found = set()
    for pid in child_pids(os.getpid()):
        try:
            if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text():
                found.add(pid)
        except OSError:
            continue
    return found


async def _gone(pids: set[int], timeout: float = 30.0) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while any(Path(f"/proc/{pid}").exists() for pid in pids):
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_hashes_are_argon2id_at_the_owasp_floor_and_verify() -> None:
    passwords = PasswordHashing()
    try:
        stored = await passwords.hash(PASSWORD)
        assert stored.startswith(OWASP_PREFIX), stored
        checked = await passwords.verify(stored, PASSWORD)
        assert checked.matches and not checked.needs_rehash
        assert not (await passwords.verify(stored, "wrong")).matches
        # An unknown user (no hash) is checked against a dummy hash, and never matches.
        assert not (await passwords.verify(None, PASSWORD)).matches
        assert not (await passwords.verify("not a hash", PASSWORD)).matches
    finally:
        await passwords.close()


async def test_a_hash_with_older_parameters_asks_to_be_replaced() -> None:
    old = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(PASSWORD)  # argon2-cffi's default
    passwords = PasswordHashing()
    try:
        checked = await passwords.verify(old, PASSWORD)
        assert checked.matches and checked.needs_rehash
        # Only a right password leads to a new hash: a wrong one asks for nothing.
        assert not (await passwords.verify(old, "wrong")).needs_rehash
    finally:
        await passwords.close()


async def test_workers_are_niced_processes_the_loop_keeps_running_and_close_stops_them() -> None:
    before = _hash_workers()
    passwords = PasswordHashing(HashParameters(), workers=2, niceness=7)
    assert _hash_workers() == before  # no process before the first password
    stored = await passwords.hash(PASSWORD)
    ticks, done = 0, asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    started = ticks
    results = await asyncio.gather(*(passwords.verify(stored, PASSWORD) for _ in range(4)))
    done.set()
    await task
    assert all(r.matches for r in results)
    assert ticks > started + 1  # other coroutines ran while the workers hashed
    workers = _hash_workers() - before
    assert 1 <= len(workers) <= 2, workers
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert all(os.getpriority(os.PRIO_PROCESS, pid) == min(19, own + 7) for pid in workers)
    await passwords.close()
    assert await _gone(workers), "worker processes outlived close()"
    with pytest.raises(RuntimeError):
        await passwords.hash(PASSWORD)


KILLED_GATEWAY = """
import asyncio
from switchboard_gateway.accounts.passwords import PasswordHashing

async def main():
    passwords = PasswordHashing(workers=2)
    await asyncio.gather(passwords.hash("a"), passwords.hash("b"))
    print("ready", flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


async def test_workers_die_with_a_gateway_killed_outright() -> None:
    """SIGKILL (or the OOM killer) runs no shutdown: the workers must not live on as orphans."""
    gateway = await asyncio.create_subprocess_exec(sys.executable, "-c", KILLED_GATEWAY, stdout=asyncio.subprocess.PIPE)
    try:
        assert gateway.stdout is not None
        assert (await asyncio.wait_for(gateway.stdout.readline(), 120)).strip() == b"ready"
        workers = set(child_pids(gateway.pid))
        assert workers
    finally:
        gateway.kill()
        await gateway.wait()
    assert await _gone(workers), "password workers outlived a killed gateway"


async def test_admission_is_bounded_and_the_refusal_is_immediate() -> None:
    passwords = PasswordHashing(workers=1, max_pending=2)
    try:
        stored = await passwords.hash(PASSWORD)
        admitted = [asyncio.create_task(passwords.verify(stored, PASSWORD)) for _ in range(2)]
        await asyncio.sleep(0)  # both are in hand (queued or running) now
        assert passwords.pending == 2
        with pytest.raises(AppError) as refused:
            await passwords.verify(stored, PASSWORD)
        error = refused.value
        assert (error.status, error.code) == (429, "too_many_logins")
        assert error.headers == {"Retry-After": "1"} and error.details["retry_after_seconds"] == 1
        with pytest.raises(AppError):
            await passwords.hash(PASSWORD)  # hashing shares the bound
        assert all(r.matches for r in await asyncio.gather(*admitted))
        assert passwords.pending == 0
        assert (await passwords.verify(stored, PASSWORD)).matches  # room again
    finally:
        await passwords.close()


def test_settings_refuse_parameters_below_the_owasp_floor() -> None:
    for memory, passes in ((19456, 1), (8192, 4), (4096, 20)):
        with pytest.raises(ValidationError):
            GatewaySettings(environment="test", password_hash_memory_kib=memory, password_hash_time_cost=passes)
    for memory, passes in ((47104, 1), (19456, 2), (7168, 5)):
        settings = GatewaySettings(environment="test", password_hash_memory_kib=memory, password_hash_time_cost=passes)
        assert (settings.password_hash_memory_kib, settings.password_hash_time_cost) == (memory, passes)


async def _stored_hash(database_url: str, user_id: str) -> str:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            found = await connection.scalar(
                cross_tenant(text("SELECT password_hash FROM users WHERE id = :u")), {"u": uuid.UUID(user_id)}
            )
    finally:
        await engine.dispose()
    assert isinstance(found, str)
    return found


async def _store_hash(database_url: str, user_id: str, password_hash: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                cross_tenant(text("UPDATE users SET password_hash = :h WHERE id = :u")),
                {"h": password_hash, "u": uuid.UUID(user_id)},
            )
    finally:
        await engine.dispose()


async def test_a_login_replaces_a_hash_made_with_older_parameters(stack_urls: StackUrls) -> None:
    async with live_server(stack_urls) as live, httpx.AsyncClient(base_url=live.url, timeout=60) as client:
        tenant = await signup(client)
        assert (await _stored_hash(live.env["DATABASE_URL"], tenant.owner_id)).startswith(OWASP_PREFIX)
        old = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(PASSWORD)
        await _store_hash(live.env["DATABASE_URL"], tenant.owner_id, old)
        wrong = await client.post("/api/v1/auth/login", json={"email": tenant.email, "password": "wrong"})
        assert wrong.status_code == 401
        assert await _stored_hash(live.env["DATABASE_URL"], tenant.owner_id) == old  # a wrong password changes nothing
        assert (await login(client, tenant.email, PASSWORD)).startswith("ey")
        renewed = await _stored_hash(live.env["DATABASE_URL"], tenant.owner_id)
        assert renewed.startswith(OWASP_PREFIX) and renewed != old
        assert (await login(client, tenant.email, PASSWORD)).startswith("ey")  # and it verifies
        assert await _stored_hash(live.env["DATABASE_URL"], tenant.owner_id) == renewed  # once


async def _pong(socket: ClientConnection) -> None:
    await socket.send(json.dumps({"type": "ping"}))
    async with asyncio.timeout(30):
        while json.loads(await socket.recv())["type"] != "pong":
            pass


AGENTS, BURST = 4, 16


async def test_a_login_burst_beyond_the_bound_gets_429_while_sockets_keep_answering(stack_urls: StackUrls) -> None:
    before = _hash_workers()
    async with (
        # One worker and at most 2 checks in hand: a burst of 16 cannot all be admitted.
        live_server(
            stack_urls, PASSWORD_HASH_WORKERS="1", PASSWORD_HASH_MAX_PENDING="2", WS_HEARTBEAT_SECONDS="0.5"
        ) as live,
        httpx.AsyncClient(base_url=live.url, timeout=60) as client,
    ):
        tenant = await signup(client)
        agents = [(await create_agent(client, tenant))[0] for _ in range(AGENTS)]
        emails = [(await client.get(f"/api/v1/agents/{a}", headers=tenant.headers)).json()["email"] for a in agents]
        async with connect(
            f"{live.ws_url}/api/v1/ws",
            subprotocols=["switchboard", f"bearer.{tenant.token}"],  # type: ignore[list-item]
        ) as socket:
            assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "session.ready"
            burst = asyncio.gather(
                *(
                    client.post("/api/v1/auth/login", json={"email": emails[i % AGENTS], "password": AGENT_PASSWORD})
                    for i in range(BURST)
                )
            )
            await _pong(socket)  # the socket answers while the burst is in hand
            answers = await burst
            await _pong(socket)  # and is still open after it (heartbeats re-checked its credentials meanwhile)
        statuses = [a.status_code for a in answers]
        assert set(statuses) <= {200, 429}, statuses
        refused = [a for a in answers if a.status_code == 429]
        assert refused and statuses.count(200) >= 1, statuses
        for answer in refused:
            assert answer.json()["error"]["code"] == "too_many_logins", answer.text
            assert answer.headers["Retry-After"] == "1"
            assert answer.json()["error"]["details"]["retry_after_seconds"] == 1
        # A refused login was never a failure: retried after Retry-After, each agent gets in.
        await asyncio.sleep(1)
        for email in {emails[i % AGENTS] for i, answer in enumerate(answers) if answer.status_code == 429}:
            again = await client.post("/api/v1/auth/login", json={"email": email, "password": AGENT_PASSWORD})
            assert again.status_code == 200, again.text
        workers = _hash_workers() - before
        assert len(workers) == 1, workers
    assert await _gone(workers), "the gateway's password workers outlived the app"
