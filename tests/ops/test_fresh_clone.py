"""The README's first command as a newcomer runs it: a fresh copy of the repository in an empty directory,
default settings, `make run`; sign up and carry the first conversation over HTTP and WebSocket; Ctrl-C; no
server process left behind.

Only ``PORT`` is set (the README documents it), because a test must not take port 8000 from a `make run`
the developer may have open. No other setting of ours is inherited: no ``DATA_DIR``, no server URLs, no
virtualenv, so relative defaults (``.switchboard/``) are exercised exactly as a fresh clone meets them.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from switchboard_devstack import free_port

from tests.helpers.api import Socket, create_agent, create_web_inbox, signup, visitor_session

REPO = Path(__file__).resolve().parents[2]


def copy_as_fresh_clone(target: Path) -> None:
    """What `git clone` of the working tree would give: tracked and new, non-ignored files only (no .venv,
    no .switchboard, no caches), so what is uncommitted while developing is tested too."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        if not source.is_file():  # deleted in the working tree but still in the index
            continue
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)


def newcomer_environment(port: int) -> dict[str, str]:
    """The machine's environment (certificates, proxies, caches) without anything of ours: no setting any
    service reads, no virtualenv of the suite's, nothing pytest set."""
    from switchboard_connectors.settings import ConnectorSettings
    from switchboard_gateway.settings import GatewaySettings
    from switchboard_privacy.settings import PrivacySettings
    from switchboard_router.settings import RouterSettings

    ours = {
        name.upper()
        for settings in (GatewaySettings, RouterSettings, ConnectorSettings, PrivacySettings)
        for name in settings.model_fields
    }
    ours |= {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "PYTHONHOME"}
    env = {k: v for k, v in os.environ.items() if k not in ours and not k.startswith(("PYTEST_", "SWITCHBOARD_"))}
    virtualenv = os.environ.get("VIRTUAL_ENV")
    if virtualenv:  # the suite's own virtualenv must not stand in for the clone's
        env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if not p.startswith(virtualenv))
    env["PORT"] = str(port)
    return env


def processes_under(directory: Path) -> list[str]:
    """Every live process whose command line names the directory: the clone's Python, PostgreSQL, Valkey
    and tansu all run from the clone's own virtualenv."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = next(line for line in (proc / "status").read_text().splitlines() if line.startswith("State:"))
        except (OSError, StopIteration):
            continue
        if str(directory) in cmdline and "zombie" not in state:
            found.append(f"{proc.name}: {cmdline.strip()}")
    return found


async def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"`make run` exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
            try:
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.5)
    pytest.fail(f"`make run` was not ready in {timeout}s:\n{log.read_text()[-4000:]}")


async def first_conversation(url: str) -> None:
    ws_url = url.replace("http://", "ws://")
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        tenant = await signup(client)
        inbox = await create_web_inbox(client, tenant)
        agent_id, agent_token = await create_agent(client, tenant)
        agent = await Socket.open(f"{ws_url}/api/v1/ws?token={agent_token}")
        await agent.wait_for(lambda f: f["type"] == "session.ready")
        visitor = await visitor_session(client, inbox["widget_token"])
        visitor_socket = await Socket.open(f"{ws_url}/api/v1/widget/ws?token={visitor['visitor_token']}")
        await visitor_socket.wait_for(lambda f: f["type"] == "session.ready")

        sent = await client.post(
            "/api/v1/widget/messages",
            json={"text": "Hello from a fresh clone"},
            headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
        )
        assert sent.status_code == 202, sent.text
        conversation_id = sent.json()["conversation_id"]
        assigned = await agent.wait_for(
            lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == conversation_id
        )
        assert assigned["agent_id"] == agent_id
        assert await agent.texts_for(conversation_id, 1) == ["Hello from a fresh clone"]

        reply = await client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"text": "Welcome!"},
            headers={"Authorization": f"Bearer {agent_token}"},
        )
        assert reply.status_code == 201, reply.text
        delivered = await visitor_socket.wait_for(lambda f: f["type"] == "message.created")
        assert delivered["message"]["text"] == "Welcome!"
        await agent.close()
        await visitor_socket.close()


@pytest.mark.slow
async def test_readme_commands_on_a_fresh_clone(tmp_path: Path) -> None:
    clone = tmp_path / "switchboard"
    clone.mkdir()
    copy_as_fresh_clone(clone)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "make-run.log"
    with log.open("wb") as output:
        # Its own session, as a terminal gives it; Ctrl-C is SIGINT to that foreground process group.
        proc = subprocess.Popen(
            ["make", "run"],
            cwd=clone,
            env=newcomer_environment(port),
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        await wait_ready(url, proc, log)
        assert (clone / ".switchboard" / "postgres").is_dir(), "the default DATA_DIR is .switchboard/"
        await first_conversation(url)

        os.killpg(proc.pid, signal.SIGINT)
        await asyncio.to_thread(proc.wait, 60)
        printed = log.read_text()
        assert "switchboard: stopped" in printed, printed[-4000:]
        deadline = time.monotonic() + 15
        while processes_under(clone) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert processes_under(clone) == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for line in processes_under(clone):
            os.kill(int(line.split(":", 1)[0]), signal.SIGKILL)
