"""A server process (``serve``, what ``python -m switchboard_<service>`` and ``make run`` run) freezes what it
holds once started, so full garbage collections under load stop walking every startup object (issue 17)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time

import httpx
import pytest
from switchboard_devstack import free_port

SERVER = """
import gc, sys
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from switchboard_common.infra.service import serve
import asyncio

async def frozen(request):
    return JSONResponse({"frozen": gc.get_freeze_count()})

asyncio.run(serve([(Starlette(routes=[Route("/frozen", frozen)]), "127.0.0.1", int(sys.argv[1]))]))
"""


def test_a_started_server_process_freezes_its_startup_objects() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        answer = None
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/frozen", timeout=2).json()
            except httpx.HTTPError:
                time.sleep(0.2)
                continue
            if answer["frozen"]:
                break
            time.sleep(0.2)
        assert answer is not None, "the server never answered"
        # Every module and object of the started process: tens of thousands even for this small app.
        assert answer["frozen"] > 10_000, json.dumps(answer)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def test_a_service_process_serves_on_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m switchboard_<service>` runs its servers on uvloop (uvicorn's default loop where installed, the
    one bench/bare.py gets): asyncio's pure-Python transports cost the ack path about a third of its CPU."""
    import uvloop
    from fastapi import FastAPI
    from switchboard_common.infra import service
    from switchboard_common.infra.settings import CommonSettings

    loops: list[type[asyncio.AbstractEventLoop]] = []

    async def serve(apps: object, **_: object) -> None:
        loops.append(type(asyncio.get_running_loop()))

    monkeypatch.setattr(service, "serve", serve)
    monkeypatch.setattr(sys, "argv", ["switchboard_test", "--port", str(free_port())])
    service.run_service(lambda settings, run_workers: FastAPI(), CommonSettings(), host="127.0.0.1", port=0)
    assert loops == [uvloop.Loop]
