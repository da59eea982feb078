"""A cluster of service processes on servers of their own, agents and traffic through it, and the exactly-once count."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from switchboard_common.infra import signing
from switchboard_devstack import LocalStack
from switchboard_devstack.processes import ServiceProcess
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from tests.helpers.api import Tenant
from tests.helpers.live import make_env

SETTLE_TIMEOUT = 60.0


@dataclass
class Cluster:
    stack: LocalStack
    env: dict[str, str]
    gateways: list[ServiceProcess]
    connectors: ServiceProcess
    router: ServiceProcess
    engine: AsyncEngine
    log_dir: Path

    @property
    def processes(self) -> list[ServiceProcess]:
        return [*self.gateways, self.connectors, self.router]

    def live_gateways(self) -> list[ServiceProcess]:
        return [g for g in self.gateways if g.running]


ClusterParts = tuple[LocalStack, dict[str, str], list[ServiceProcess], Path]


@contextlib.contextmanager
def fault_cluster(stack: LocalStack, log_dir: Path, **env_overrides: str) -> Iterator[ClusterParts]:
    """Two gateways, connectors and a router, each its own process, on ``stack`` (started here)."""
    stack.start()
    from switchboard_common.migrations import upgrade

    upgrade(stack.urls().database_url)
    env = make_env(stack.urls(), **{"KAFKA_TOPIC_PARTITIONS": "4", "LOG_LEVEL": "INFO", **env_overrides})
    processes = [
        ServiceProcess("gateway", env, log_dir, name="gateway-a"),
        ServiceProcess("gateway", env, log_dir, name="gateway-b"),
        ServiceProcess("connectors", env, log_dir),
        ServiceProcess("router", env, log_dir),
    ]
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.wait_ready()
        yield stack, env, processes, log_dir
    finally:
        for process in processes:
            with contextlib.suppress(Exception):
                if process.running:
                    process.terminate(timeout=30)
            process.kill9()
        stack.stop()


class AgentClient:
    """An agent's browser: one socket, reconnecting to the next live gateway from the last id it saw."""

    def __init__(self, cluster: Cluster, token: str) -> None:
        self.cluster = cluster
        self.token = token
        self.frames: list[dict[str, Any]] = []
        self.close_codes: list[int | None] = []
        self.last_id: str | None = None
        self.connections = 0
        self.ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._run())
        self._gateway_index = 0

    def _next_gateway(self) -> ServiceProcess | None:
        gateways = self.cluster.gateways
        for step in range(len(gateways)):
            candidate = gateways[(self._gateway_index + step) % len(gateways)]
            if candidate.running:
                self._gateway_index = (self._gateway_index + step + 1) % len(gateways)
                return candidate
        return None

    async def _run(self) -> None:
        while not self._stop.is_set():
            gateway = self._next_gateway()
            if gateway is None:
                await asyncio.sleep(0.2)
                continue
            url = f"{gateway.ws_url}/api/v1/ws?token={self.token}"
            if self.last_id:
                url += f"&last_event_id={self.last_id}"
            try:
                async with connect(url, open_timeout=5) as socket:
                    self.connections += 1
                    async for raw in socket:
                        frame = json.loads(raw)
                        if frame["type"] == "session.ready":
                            # Where this socket starts: a drop before its first frame resumes from here, not from
                            # "newest", so nothing pushed in between is skipped.
                            if not self.last_id and frame.get("last_event_id"):
                                self.last_id = frame["last_event_id"]
                            self.ready.set()
                            continue
                        self.frames.append(frame)
                        if frame.get("id"):
                            self.last_id = frame["id"]
                    received = socket.protocol.close_rcvd
                    self.close_codes.append(received.code if received is not None else None)
            except (OSError, WebSocketException, TimeoutError) as exc:
                if isinstance(exc, ConnectionClosed):
                    self.close_codes.append(exc.rcvd.code if exc.rcvd else None)
                await asyncio.sleep(0.2)

    def delivered(self) -> collections.Counter[str]:
        """Every inbound message id shown to the agent, counted (a duplicate shows as 2)."""
        seen: collections.Counter[str] = collections.Counter()
        for frame in self.frames:
            if frame["type"] == "conversation.assigned":
                seen.update(m["id"] for m in frame["messages"] if m["direction"] == "inbound")
            elif frame["type"] == "message.created" and frame["message"]["direction"] == "inbound":
                seen[frame["message"]["id"]] += 1
        return seen

    async def close(self) -> None:
        self._stop.set()
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task


@dataclass
class Traffic:
    """Senders that retry every message until it is accepted, like a widget or a back end would."""

    cluster: Cluster
    visitors: list[str]
    api_inbox: dict[str, Any]
    accepted: dict[str, str] = field(default_factory=dict)  # message id -> client id
    failures: collections.Counter[str] = field(default_factory=collections.Counter)
    _counter: int = 0

    async def _post_widget(self, http: httpx.AsyncClient, visitor_token: str, client_id: str) -> str | None:
        gateways = self.cluster.live_gateways()
        if not gateways:
            return None
        gateway = gateways[self._counter % len(gateways)]
        response = await http.post(
            f"{gateway.url}/api/v1/widget/messages",
            json={"text": f"message {client_id}", "client_message_id": client_id},
            headers={"Authorization": f"Bearer {visitor_token}"},
        )
        return str(response.json()["message_id"]) if response.status_code == 202 else None

    async def _post_api(self, http: httpx.AsyncClient, contact: str, client_id: str) -> str | None:
        body = json.dumps(
            {"contact": {"external_id": contact}, "message": {"id": client_id, "text": f"message {client_id}"}}
        ).encode()
        response = await http.post(
            f"{self.cluster.connectors.url}/webhooks/api/{self.api_inbox['id']}",
            content=body,
            headers={"Content-Type": "application/json", **signing.signed_headers(self.api_inbox["secret"], body)},
        )
        return str(response.json()["message_id"]) if response.status_code in (200, 202) else None

    async def send_one(self, http: httpx.AsyncClient, sender: str, client_id: str, deadline: float) -> None:
        while time.monotonic() < deadline:
            self._counter += 1
            try:
                if sender.startswith("api:"):
                    message_id = await self._post_api(http, sender.removeprefix("api:"), client_id)
                else:
                    message_id = await self._post_widget(http, sender, client_id)
            except (httpx.HTTPError, ValueError):
                message_id = None
            if message_id is not None:
                self.accepted[message_id] = client_id
                return
            self.failures[sender[:4]] += 1
            await asyncio.sleep(0.2)
        raise AssertionError(f"{client_id} was never accepted")

    async def run(self, seconds: float, *, interval: float = 0.15) -> None:
        """Every sender sends a message every ``interval`` for ``seconds``, each retried until accepted."""
        deadline = time.monotonic() + seconds

        async def sender_loop(sender: str) -> None:
            async with httpx.AsyncClient(timeout=10) as http:
                while time.monotonic() < deadline:
                    await self.send_one(http, sender, f"c-{uuid.uuid4().hex[:12]}", time.monotonic() + 90)
                    await asyncio.sleep(interval)

        await asyncio.gather(*(sender_loop(s) for s in [*self.visitors, "api:cust-1", "api:cust-2"]))


@dataclass
class World:
    cluster: Cluster
    tenant: Tenant
    agent: AgentClient
    traffic: Traffic


async def settle_and_count(world: World) -> None:
    """Waits until every accepted message is stored and shown, then counts: each exactly once."""
    accepted = set(world.traffic.accepted)
    deadline = time.monotonic() + SETTLE_TIMEOUT
    stored: collections.Counter[str] = collections.Counter()
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            async with world.cluster.engine.connect() as conn:
                rows = await conn.execute(
                    text("SELECT id::text FROM messages WHERE account_id = :a AND direction = 'inbound'"),
                    {"a": world.tenant.account_id},
                )
                stored = collections.Counter(row[0] for row in rows)
        if accepted <= set(stored) and accepted <= set(world.agent.delivered()):
            break
        await asyncio.sleep(0.3)
    delivered = world.agent.delivered()
    logs = "\n".join(f"--- {p.name}\n{p.log_tail(15)}" for p in world.cluster.processes)
    missing_db = accepted - set(stored)
    missing_agent = accepted - set(delivered)
    assert not missing_db, f"{len(missing_db)} accepted messages not stored\n{logs}"
    assert not missing_agent, f"{len(missing_agent)} accepted messages never reached the agent\n{logs}"
    # Exactly once: no row or frame beyond the accepted ones, none twice.
    assert set(stored) == accepted, "messages stored that no client had accepted"
    assert set(delivered) == accepted, "the agent saw messages that no client had accepted"
    assert [m for m, n in stored.items() if n != 1] == []
    duplicates = {m: n for m, n in delivered.items() if n != 1}
    assert duplicates == {}, f"agent saw {len(duplicates)} messages more than once"


async def in_background(coro: Any) -> asyncio.Task[Any]:
    task = asyncio.ensure_future(coro)
    await asyncio.sleep(1.0)  # traffic is flowing before the fault
    return task


async def wait_for_frame(agent: AgentClient, predicate: Any, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for frame in agent.frames:
            if predicate(frame):
                return frame
        await asyncio.sleep(0.1)
    raise AssertionError(f"no matching frame among {len(agent.frames)}")


def metric_total(exposition: str, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    total = 0.0
    for line in exposition.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total
