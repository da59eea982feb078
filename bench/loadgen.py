"""The load run's client side, in a process of its own: aiohttp senders for every channel plus the agents'
WebSockets, so one clock times each message from its webhook to the agent socket that shows it.

Closed loop end to end: at most ``window`` messages are in the pipeline at once (sent and not yet on an
agent's socket), so the rate found is the one the whole pipeline sustains, not how fast webhooks are
acknowledged while a backlog piles up in Kafka. ``rate`` paces the sends as well (open loop below the cap).

Every message carries a unique marker in its text; the agents' frames are counted per marker, so a loss,
a duplicate or a stray message is a number in the result, never a guess.

python -m bench.loadgen PLAN.json RESULT.json
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import hmac
import json
import math
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from switchboard_common.infra import signing

from bench.harness import percentile

CHANNELS = ("web", "api", "slack", "messenger")
MAX_ATTEMPTS = 8  # a platform retries a refused webhook; so do we, with the same ids (deduplicated)
REQUEST_TIMEOUT_SECONDS = 30.0
RETRYABLE = {408, 425, 429, 500, 502, 503, 504}


def channel_of(seq: int) -> str:
    return CHANNELS[seq % len(CHANNELS)]


def conversation_of(seq: int, per_channel: int) -> int:
    """Messages go round the channels, then round each channel's conversations: the first
    ``4 * per_channel`` messages open every conversation, the rest land in open ones."""
    return (seq // len(CHANNELS)) % per_channel


def marker(run: str, seq: int) -> str:
    return f"load {run} {seq}"


def parse_marker(run: str, text: object) -> int | None:
    """The message's number if ``text`` is one of this run's markers; -1 for this run's but malformed."""
    if not isinstance(text, str) or not text.startswith(f"load {run} "):
        return None
    tail = text.removeprefix(f"load {run} ")
    return int(tail) if tail.isdigit() else -1


def inbound_texts(frame: dict[str, Any]) -> list[object]:
    """The customer messages a frame shows the agent: the backlog inside an assignment, or one live message."""
    if frame.get("type") == "conversation.assigned":
        return [m.get("text") for m in frame.get("messages") or [] if m.get("direction") == "inbound"]
    if frame.get("type") == "message.created":
        message = frame.get("message") or {}
        if message.get("direction") == "inbound":
            return [message.get("text")]
    return []


@dataclass
class Tally:
    accepted: int
    delivered_once: int
    lost: list[int]
    duplicated: dict[int, int]
    unacknowledged_delivered: list[int]

    @property
    def ok(self) -> bool:
        return not self.lost and not self.duplicated


def tally(accepted: Iterable[int], arrivals: collections.Counter[int]) -> Tally:
    """Exactly once, counted: every accepted message shown once, none twice; what arrived unaccepted is
    listed apart (a request that timed out after the server took it is delivered, and that is right)."""
    accepted_set = set(accepted)
    return Tally(
        accepted=len(accepted_set),
        delivered_once=sum(1 for seq in accepted_set if arrivals.get(seq) == 1),
        lost=sorted(seq for seq in accepted_set if not arrivals.get(seq)),
        duplicated={seq: n for seq, n in sorted(arrivals.items()) if n > 1},
        unacknowledged_delivered=sorted(seq for seq in arrivals if seq not in accepted_set),
    )


@dataclass
class Plan:
    run: str
    gateway_url: str
    connectors_url: str
    agents: list[dict[str, Any]]  # access_token, refresh_token, expires_in: as /auth/login answers
    visitor_tokens: list[str]
    api_inbox: dict[str, str]
    slack: dict[str, str]
    messenger: dict[str, str]
    messages: int
    per_channel: int
    window: int
    rate: float
    slot_timeout: float
    settle_idle: float
    max_seconds: float

    @classmethod
    def read(cls, path: Path) -> Plan:
        return cls(**json.loads(path.read_text()))


@dataclass
class State:
    n: int
    sent_at: list[float] = field(default_factory=list)
    acked_at: list[float] = field(default_factory=list)
    first_arrival: list[float] = field(default_factory=list)
    accepted: set[int] = field(default_factory=set)
    refused: dict[int, str] = field(default_factory=dict)
    arrivals: collections.Counter[int] = field(default_factory=collections.Counter)
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    retries: int = 0
    malformed: int = 0
    foreign: int = 0
    reconnects: int = 0
    waiters: dict[int, asyncio.Future[None]] = field(default_factory=dict)
    last_arrival: float = 0.0
    frames: collections.Counter[str] = field(default_factory=collections.Counter)
    # For diagnosing a loss: which agents were shown which conversation, and where each message was.
    conversation_agents: dict[str, set[int]] = field(default_factory=lambda: collections.defaultdict(set))
    conversation_of_seq: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sent_at = [math.nan] * self.n
        self.acked_at = [math.nan] * self.n
        self.first_arrival = [math.nan] * self.n


class Sender:
    def __init__(self, plan: Plan, state: State, session: aiohttp.ClientSession) -> None:
        self.plan = plan
        self.state = state
        self.session = session

    def request(self, seq: int) -> tuple[str, bytes, dict[str, str]]:
        """(url, body, headers) for message ``seq``, signed now as its platform signs it."""
        plan, text = self.plan, marker(self.plan.run, seq)
        conversation = conversation_of(seq, plan.per_channel)
        channel = channel_of(seq)
        if channel == "web":
            body = json.dumps({"text": text, "client_message_id": f"{plan.run}-{seq}"}).encode()
            headers = {
                "Authorization": f"Bearer {plan.visitor_tokens[conversation]}",
                "Content-Type": "application/json",
            }
            return f"{plan.gateway_url}/api/v1/widget/messages", body, headers
        if channel == "api":
            body = json.dumps(
                {
                    "contact": {"external_id": f"customer-{conversation}"},
                    "message": {"id": f"{plan.run}-{seq}", "text": text},
                }
            ).encode()
            return (
                f"{plan.connectors_url}/webhooks/api/{plan.api_inbox['id']}",
                body,
                signing.signed_headers(plan.api_inbox["secret"], body),
            )
        if channel == "slack":
            now = int(time.time())
            body = json.dumps(
                {
                    "type": "event_callback",
                    "team_id": plan.slack["team_id"],
                    "api_app_id": "ABENCH",
                    "event_id": f"Ev{plan.run}{seq}",
                    "event_time": now,
                    "event": {
                        "type": "message",
                        "channel": plan.slack["channel_id"],
                        "channel_type": "channel",
                        "user": f"U{conversation:07d}",
                        "text": text,
                        "ts": f"{1_700_000_000 + seq // 1_000_000}.{seq % 1_000_000:06d}",
                    },
                }
            ).encode()
            base = f"v0:{now}:".encode() + body
            digest = hmac.new(plan.slack["signing_secret"].encode(), base, hashlib.sha256).hexdigest()
            headers = {
                "X-Slack-Request-Timestamp": str(now),
                "X-Slack-Signature": f"v0={digest}",
                "Content-Type": "application/json",
            }
            return f"{plan.connectors_url}/webhooks/slack/events", body, headers
        page, now_ms = plan.messenger["page_id"], int(time.time() * 1000)
        event = {
            "sender": {"id": str(10**14 + conversation)},
            "recipient": {"id": page},
            "timestamp": now_ms,
            "message": {"mid": f"m_{plan.run}_{seq}", "text": text},
        }
        body = json.dumps({"object": "page", "entry": [{"id": page, "time": now_ms, "messaging": [event]}]}).encode()
        digest = hmac.new(plan.messenger["app_secret"].encode(), body, hashlib.sha256).hexdigest()
        headers = {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}
        return f"{plan.connectors_url}/webhooks/messenger", body, headers

    @staticmethod
    def _taken(channel: str, status: int, answer: dict[str, Any], attempt: int) -> bool:
        """Whether the platform would consider the message delivered to us (no retry)."""
        if channel == "web":
            return status == 202 and bool(answer.get("message_id"))
        if channel == "api":
            return status in (200, 202)
        # Slack and Messenger answer 200 and say what they took; a retry of a taken message is a duplicate.
        return status == 200 and (answer.get("accepted") == 1 or answer.get("duplicate") is True or attempt > 0)

    async def send(self, seq: int) -> bool:
        state, channel = self.state, channel_of(seq)
        state.sent_at[seq] = time.perf_counter()
        outcome = "no attempt"
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                state.retries += 1
                await asyncio.sleep(min(0.25 * 2**attempt, 5.0))
            url, body, headers = self.request(seq)
            try:
                async with self.session.post(url, data=body, headers=headers) as response:
                    raw = await response.read()
                    status = response.status
                answer = json.loads(raw) if raw.startswith(b"{") else {}
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                outcome = type(exc).__name__
                state.statuses[f"{channel} {outcome}"] += 1
                continue
            state.statuses[f"{channel} {status}"] += 1
            if self._taken(channel, status, answer, attempt):
                state.acked_at[seq] = time.perf_counter()
                state.accepted.add(seq)
                return True
            outcome = f"{status} {answer.get('error', {}).get('code', '') if isinstance(answer, dict) else ''}"
            if status not in RETRYABLE:
                break
        state.refused[seq] = outcome
        return False


class Agent:
    """An agent's browser: one socket, reconnecting from the last event id it saw, with a fresh access token
    (refreshed as the console does, so a run longer than the token's lifetime can still reconnect)."""

    def __init__(
        self, plan: Plan, state: State, session: aiohttp.ClientSession, tokens: dict[str, Any], index: int
    ) -> None:
        self.index = index
        self.plan = plan
        self.state = state
        self.session = session
        self.tokens = tokens
        self.token_at = time.monotonic()
        self.ready = asyncio.Event()
        self.last_id: str | None = None
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        ws_base = self.plan.gateway_url.replace("http://", "ws://", 1)
        while True:
            if time.monotonic() - self.token_at > self.tokens["expires_in"] / 2:
                await self._refresh()
            url = f"{ws_base}/api/v1/ws?token={self.tokens['access_token']}"
            if self.last_id:
                url += f"&last_event_id={self.last_id}"
            try:
                async with self.session.ws_connect(url, autoping=True, max_msg_size=0) as socket:
                    async for message in socket:
                        if message.type != aiohttp.WSMsgType.TEXT:
                            continue
                        frame = json.loads(message.data)
                        if frame.get("type") == "session.ready":
                            self.ready.set()
                            # Where the server started this socket: resuming from here loses nothing even
                            # when the socket drops before its first frame (as the console and widget do).
                            self.last_id = self.last_id or frame.get("last_event_id")
                        if frame.get("id"):
                            self.last_id = frame["id"]
                        self.observe(frame)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                print(f"agent socket dropped ({type(exc).__name__}); reconnecting", file=sys.stderr, flush=True)
            self.state.reconnects += 1
            await asyncio.sleep(0.2)

    async def _refresh(self) -> None:
        with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
            async with self.session.post(
                f"{self.plan.gateway_url}/api/v1/auth/refresh", json={"refresh_token": self.tokens["refresh_token"]}
            ) as response:
                if response.status == 200:
                    self.tokens = await response.json()
                    self.token_at = time.monotonic()

    def observe(self, frame: dict[str, Any]) -> None:
        state, now = self.state, time.perf_counter()
        state.frames[str(frame.get("type"))] += 1
        conversation = str(frame.get("conversation_id"))
        if frame.get("conversation_id"):
            state.conversation_agents[conversation].add(self.index)
        for text in inbound_texts(frame):
            seq = parse_marker(self.plan.run, text)
            if seq is None:
                state.foreign += 1
                continue
            if not 0 <= seq < state.n:
                state.malformed += 1
                continue
            state.arrivals[seq] += 1
            state.conversation_of_seq[seq] = conversation
            if state.arrivals[seq] == 1:
                state.first_arrival[seq] = now
                state.last_arrival = now
                waiter = state.waiters.get(seq)
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(BaseException):
            await self.task


async def drive(plan: Plan) -> dict[str, Any]:
    state = State(plan.messages)
    # Idle connections are dropped before uvicorn's 5 s keep-alive ends: no request races a closing socket.
    connector = aiohttp.TCPConnector(
        limit=max(plan.window, 8) + len(plan.agents), limit_per_host=0, keepalive_timeout=3
    )
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        agents = [Agent(plan, state, session, tokens, i) for i, tokens in enumerate(plan.agents)]
        await asyncio.wait_for(asyncio.gather(*(a.ready.wait() for a in agents)), 60)
        sender = Sender(plan, state, session)
        window = asyncio.Semaphore(plan.window)
        loop = asyncio.get_running_loop()

        async def one(seq: int) -> None:
            waiter: asyncio.Future[None] = loop.create_future()
            state.waiters[seq] = waiter
            try:
                if await sender.send(seq):
                    # The slot frees when the message is on an agent's socket; a lost one frees it after a while.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(waiter, plan.slot_timeout)
            finally:
                state.waiters.pop(seq, None)
                window.release()

        started = time.perf_counter()
        deadline = started + plan.max_seconds
        progress = asyncio.create_task(report_progress(state, started))
        tasks: set[asyncio.Task[None]] = set()
        unsent = 0
        for seq in range(plan.messages):
            await window.acquire()
            if time.perf_counter() > deadline:
                window.release()
                unsent = plan.messages - seq
                break
            if plan.rate > 0:
                due = started + seq / plan.rate
                if (delay := due - time.perf_counter()) > 0:
                    await asyncio.sleep(delay)
            task = asyncio.create_task(one(seq))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        sending_done = time.perf_counter()
        # Settle: until every accepted message arrived, or nothing new arrived for a while.
        while (missing := len(state.accepted) - sum(1 for s in state.accepted if state.arrivals.get(s))) > 0:
            if time.perf_counter() - max(state.last_arrival, sending_done) > plan.settle_idle:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(2.0)  # late duplicates still count
        progress.cancel()
        for agent in agents:
            await agent.close()
    return summarize(plan, state, started, unsent, missing)


async def report_progress(state: State, started: float) -> None:
    last = 0
    while True:
        await asyncio.sleep(10)
        delivered = sum(1 for t in state.first_arrival if not math.isnan(t))
        elapsed = time.perf_counter() - started
        print(
            f"load: {elapsed:5.0f} s  accepted {len(state.accepted):>7}  delivered {delivered:>7}"
            f"  ({(delivered - last) / 10:.0f}/s)  refused {len(state.refused)}  retries {state.retries}",
            file=sys.stderr,
            flush=True,
        )
        last = delivered


def lost_context(plan: Plan, state: State, seq: int) -> dict[str, Any]:
    """Where a lost message should have been: its conversation (known from the messages of the same customer
    that did arrive), the agents shown that conversation, and its neighbours' fate."""
    step = len(CHANNELS) * plan.per_channel
    siblings = range(seq % step, plan.messages, step)
    conversation = next((state.conversation_of_seq[s] for s in siblings if s in state.conversation_of_seq), None)
    return {
        "channel": channel_of(seq),
        "conversation_id": conversation,
        "agents_shown": sorted(state.conversation_agents.get(conversation or "", set())),
        "previous_arrived": state.arrivals.get(seq - step, 0) if seq >= step else None,
        "next_arrived": state.arrivals.get(seq + step, 0) if seq + step < plan.messages else None,
        "acked_after_ms": round((state.acked_at[seq] - state.sent_at[seq]) * 1000),
    }


def window_rates(arrivals: list[float], started: float, window: int = 10_000) -> tuple[float, float, int]:
    """Messages per second over the first and over the last ``window`` arrivals (a tenth of the run when it
    is shorter than ten windows)."""
    window = min(window, max(1, len(arrivals) // 10))
    if len(arrivals) < 2 * window or window < 2:
        return math.nan, math.nan, window
    first = window / (arrivals[window - 1] - started) if arrivals[window - 1] > started else math.nan
    last = (window - 1) / (arrivals[-1] - arrivals[-window]) if arrivals[-1] > arrivals[-window] else math.nan
    return first, last, window


def _stats(values: list[float]) -> dict[str, float]:
    return {"p50": percentile(values, 50), "p99": percentile(values, 99), "max": max(values, default=math.nan)}


def summarize(plan: Plan, state: State, started: float, unsent: int, missing: int) -> dict[str, Any]:
    counted = tally(state.accepted, state.arrivals)
    e2e: dict[str, list[float]] = collections.defaultdict(list)
    ack: dict[str, list[float]] = collections.defaultdict(list)
    for seq in state.accepted:
        channel = channel_of(seq)
        ack[channel].append((state.acked_at[seq] - state.sent_at[seq]) * 1000)
        if not math.isnan(state.first_arrival[seq]):
            e2e[channel].append((state.first_arrival[seq] - state.sent_at[seq]) * 1000)
    arrived = [t for t in state.first_arrival if not math.isnan(t)]
    last = max(arrived, default=started)
    first_rate, last_rate, window = window_rates(sorted(arrived), started)
    acks = [t for t in state.acked_at if not math.isnan(t)]
    return {
        "messages": plan.messages,
        "sent": plan.messages - unsent,
        "unsent": unsent,
        "accepted": counted.accepted,
        "refused": len(state.refused),
        "refused_examples": dict(list(state.refused.items())[:10]),
        "delivered_once": counted.delivered_once,
        "lost": len(counted.lost),
        "lost_examples": counted.lost[:20],
        "lost_by_channel": dict(collections.Counter(channel_of(s) for s in counted.lost)),
        "lost_context": {seq: lost_context(plan, state, seq) for seq in counted.lost[:20]},
        "frames": dict(state.frames),
        "duplicated": len(counted.duplicated),
        "duplicated_examples": dict(list(counted.duplicated.items())[:20]),
        "unacknowledged_delivered": len(counted.unacknowledged_delivered),
        "malformed": state.malformed,
        "foreign": state.foreign,
        "missing_at_settle": missing,
        "socket_drops": state.reconnects,
        "retries": state.retries,
        "statuses": dict(state.statuses),
        "seconds": last - started,
        "accept_seconds": max(acks, default=started) - started,
        "throughput": len(arrived) / (last - started) if last > started else 0.0,
        # A long run must not slow down as the broker's logs grow: the first and the last `window` messages.
        "first_window_rate": first_rate,
        "last_window_rate": last_rate,
        "window": window,
        "accept_rate": len(acks) / (max(acks) - started) if acks and max(acks) > started else 0.0,
        "e2e_ms": {"all": _stats([v for vs in e2e.values() for v in vs]), **{c: _stats(v) for c, v in e2e.items()}},
        "ack_ms": {"all": _stats([v for vs in ack.values() for v in vs]), **{c: _stats(v) for c, v in ack.items()}},
        "accepted_seqs": sorted(state.accepted),
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m bench.loadgen PLAN.json RESULT.json", file=sys.stderr)
        return 2
    plan = Plan.read(Path(args[0]))
    result = asyncio.run(drive(plan))
    Path(args[1]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
