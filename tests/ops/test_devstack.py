"""`make run`'s entry point as a newcomer uses it: starts, serves, stops on a signal leaving nothing behind,
and keeps data across a restart."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from switchboard_devstack import free_port

PASSWORD = "restart password 1"


def _start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS")}
    env.update({"DATA_DIR": str(data_dir), "PORT": str(port)})
    return subprocess.Popen(
        [sys.executable, "-m", "switchboard_devstack", "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


async def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            assert proc.poll() is None, _output(proc)
            try:
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError("make run did not become ready")


def _children_of_data_dir(data_dir: Path) -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if str(data_dir) in line]


def _output(proc: subprocess.Popen[bytes]) -> str:
    if proc.stdout is None or proc.stdout.closed:
        return ""
    text = proc.stdout.read().decode()
    proc.stdout.close()
    return text


async def _stop(proc: subprocess.Popen[bytes], sig: signal.Signals) -> float:
    started = time.monotonic()
    proc.send_signal(sig)
    await asyncio.to_thread(proc.wait, 30)
    return time.monotonic() - started


@pytest.mark.slow
async def test_run_serves_stops_cleanly_and_keeps_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _start(data_dir, port)
    try:
        await _wait_ready(url, proc)
        async with httpx.AsyncClient(base_url=url) as client:
            email = f"persist-{port}@example.com"
            created = await client.post(
                "/api/v1/signup", json={"account_name": "P", "email": email, "password": PASSWORD}
            )
            assert created.status_code == 201
        await _stop(proc, signal.SIGINT)
        assert proc.returncode == 0
        output = _output(proc)
        assert "127.0.0.1:" in output and "stopped" in output  # it printed what ran where
        assert _children_of_data_dir(data_dir) == []

        proc = _start(data_dir, port)
        await _wait_ready(url, proc)
        async with httpx.AsyncClient(base_url=url) as client:
            login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            assert login.status_code == 200, "the account did not survive the restart"
        await _stop(proc, signal.SIGTERM)
        assert proc.returncode == 0
        assert _children_of_data_dir(data_dir) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _output(proc)
