"""The reports bench: ``GET /api/v1/reports/summary`` over rollups of 1,000,000 messages (p99 per ``group_by``,
goal ≤ 200 ms) and the rollup consumer's fold rate (goal: keeps up with the 500 msg/s of the throughput issue).

A throwaway account is made through the API (owner, agents, teams, inboxes, labels). Then a month of its
conversations is generated as the events the system publishes — created, labelled, an SLA policy, assigned,
messages in and out, an occasional breach, resolved, a rating — and folded into the rollups through the rollup
consumer's own code. The first ``fold_messages`` (100,000) go through the consumer's writer
(``switchboard_gateway.reports.consumer.RollupWriter``: deduplication, facts ``FOR UPDATE``, dimension rows,
counter and histogram upserts) in batches of a consumer poll, conversations interleaved as partitions deliver
them: that fold is the consumer's work minus the Kafka fetch and JSON parse, and its rate, in messages and events
per second and per CPU second, is the throughput row. The rest is seeded in bulk through the same fold
(``store.fold``: the reducer, dimensions, histogram bins) and the same upserts (``store.write_deltas``), tens of
thousands of events per transaction and without the per-event dedup rows, which a summary never reads: a
million messages seed in minutes instead of most of an hour. Then a gateway process of its own answers the
summary requests, driven by aiohttp one at a time (a manager's screen), each ``group_by`` in turn, over the
whole month, within a time budget per ``group_by`` (the row says how many requests it measured).

Side by side (a shared machine's noise hits both alike): a second account seeded in bulk with
``baseline_messages`` (200,000) is asked the same summaries in the same run, its requests interleaved with the
first's, and the row gives the 1,000,000-message p99 as a multiple of the 200,000-message one.

``python -m bench.reports --messages 20000`` runs it on a fresh local stack (smaller sizes for a quick check).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from switchboard_common.domain.events import (
    ConversationAssigned,
    ConversationAssignedPayload,
    ConversationCreated,
    ConversationCreatedPayload,
    ConversationCsatAnswered,
    ConversationCsatAnsweredPayload,
    ConversationLabelsChanged,
    ConversationLabelsChangedPayload,
    ConversationSlaBreached,
    ConversationSlaBreachedPayload,
    ConversationSlaUpdated,
    ConversationSlaUpdatedPayload,
    ConversationStatusChanged,
    ConversationStatusPayload,
    Event,
    MessageCreated,
    MessageCreatedPayload,
)
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.runtime import Resources
from switchboard_devstack.servers import StackUrls

from bench.harness import percentile, service_env

GROUPS = ("agent", "team", "inbox", "channel", "label")
CHANNELS = ("web", "web", "messenger", "slack", "api")  # the widget carries most of the traffic
LABELS = (
    "billing",
    "shipping",
    "returns",
    "vip",
    "complaint",
    "sales",
    "technical",
    "account",
    "refund",
    "feedback",
    "urgent",
    "onboarding",
)
GOAL_MS = 200.0
GOAL_MESSAGES_PER_SECOND = 500.0
PASSWORD = "bench password 123"


@dataclass
class ReportsResult:
    messages: int = 0
    conversations: int = 0
    events: int = 0
    fold_seconds: float = 0.0
    fold_cpu_seconds: float = 0.0
    requests_per_group: int = 0
    measured_requests: dict[str, int] = field(default_factory=dict)
    fold_messages: int = 0
    seed_seconds: float = 0.0
    p99_ms: dict[str, float] = field(default_factory=dict)
    p50_ms: dict[str, float] = field(default_factory=dict)
    # The smaller account measured in the same run, requests interleaved (0: not measured).
    baseline_messages: int = 0
    baseline_p99_ms: dict[str, float] = field(default_factory=dict)
    baseline_p50_ms: dict[str, float] = field(default_factory=dict)

    @property
    def messages_per_second(self) -> float:
        return self.fold_messages / self.fold_seconds if self.fold_seconds else 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.fold_seconds if self.fold_seconds else 0.0

    @property
    def events_per_cpu_second(self) -> float:
        return self.events / self.fold_cpu_seconds if self.fold_cpu_seconds else 0.0


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    token: str
    agents: list[uuid.UUID]
    teams: list[uuid.UUID]
    inboxes: list[uuid.UUID]
    policy: uuid.UUID
    email: str = ""  # the owner's login (its password: PASSWORD)


async def _post(http: aiohttp.ClientSession, url: str, body: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.post(url, json=body, headers=headers) as response:
        if response.status not in (200, 201):
            raise RuntimeError(f"POST {url.split('/api/', 1)[-1]}: {response.status}")
        return await response.json()


async def make_account(api: str, *, agents: int = 40, teams: int = 6, inboxes: int = 10) -> Account:
    """A real account through the API: what the reports name their groups with (each inbox routed to a team,
    so conversations count under teams as they do in a live account)."""
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    async with aiohttp.ClientSession() as http:
        made = await _post(
            http, f"{api}/api/v1/signup", {"account_name": "Reports bench", "email": email, "password": PASSWORD}
        )
        token = (await _post(http, f"{api}/api/v1/auth/login", {"email": email, "password": PASSWORD}))["access_token"]
        team_ids = [
            uuid.UUID((await _post(http, f"{api}/api/v1/teams", {"name": f"Team {n}"}, token))["id"])
            for n in range(teams)
        ]
        agent_ids = [uuid.UUID(made["user_id"])]
        for n in range(agents - 1):
            body = {"email": f"agent{n}-{uuid.uuid4().hex[:8]}@example.com", "name": f"Agent {n}", "password": PASSWORD}
            agent_ids.append(
                uuid.UUID((await _post(http, f"{api}/api/v1/agents", {**body, "role": "agent"}, token))["id"])
            )
        inbox_ids = [
            uuid.UUID(
                (await _post(http, f"{api}/api/v1/inboxes", {"name": f"Inbox {n}", "channel": "web"}, token))["id"]
            )
            for n in range(inboxes)
        ]
        for n, inbox in enumerate(inbox_ids):
            async with http.put(
                f"{api}/api/v1/inboxes/{inbox}/routing",
                json={"team_id": str(team_ids[n % len(team_ids)])},
                headers={"Authorization": f"Bearer {token}"},
            ) as response:
                if response.status != 200:
                    raise RuntimeError(f"PUT inboxes/{{id}}/routing: {response.status}")
        for label in LABELS:
            await _post(http, f"{api}/api/v1/labels", {"name": label, "color": "#336699"}, token)
        policy = await _post(
            http, f"{api}/api/v1/sla-policies", {"name": "Bench", "first_response_seconds": 300}, token
        )
    return Account(uuid.UUID(made["account_id"]), token, agent_ids, team_ids, inbox_ids, uuid.UUID(policy["id"]), email)


async def login(http: aiohttp.ClientSession, api: str, email: str) -> str:
    """A fresh access token of the bench account's owner."""
    return str((await _post(http, f"{api}/api/v1/auth/login", {"email": email, "password": PASSWORD}))["access_token"])


def conversation_events(account: Account, rng: random.Random, opened: datetime, messages: int) -> list[Event]:
    """One conversation's events as the services publish them, in order: ``messages`` messages in and out."""
    cid, contact = uuid.uuid4(), uuid.uuid4()
    inbox = rng.choice(account.inboxes)
    channel = rng.choice(CHANNELS)
    agent = rng.choice(account.agents)
    tenant = account.id
    at = opened
    events: list[Event] = [
        ConversationCreated(
            tenant_id=tenant,
            conversation_id=cid,
            occurred_at=at,
            payload=ConversationCreatedPayload(inbox_id=inbox, contact_id=contact, channel=channel),  # type: ignore[arg-type]
        )
    ]
    if rng.random() < 0.4:
        labels = rng.sample(LABELS, rng.choice((1, 1, 2)))
        events.append(
            ConversationLabelsChanged(
                tenant_id=tenant,
                conversation_id=cid,
                occurred_at=at,
                payload=ConversationLabelsChangedPayload(inbox_id=inbox, labels=labels),
            )
        )
    sla = rng.random() < 0.5
    if sla:
        events.append(
            ConversationSlaUpdated(
                tenant_id=tenant,
                conversation_id=cid,
                occurred_at=at,
                payload=ConversationSlaUpdatedPayload(inbox_id=inbox, policy_id=account.policy, sla={}),
            )
        )

    def message(direction: str, moment: datetime) -> MessageCreated:
        outbound = direction == "outbound"
        return MessageCreated(
            tenant_id=tenant,
            conversation_id=cid,
            occurred_at=moment,
            payload=MessageCreatedPayload(
                message_id=uuid.uuid4(),
                inbox_id=inbox,
                contact_id=contact,
                channel=channel,  # type: ignore[arg-type]
                direction=direction,  # type: ignore[arg-type]
                sender_type="agent" if outbound else "contact",
                sender_id=agent if outbound else None,
                created_at=moment,
            ),
        )

    events.append(message("inbound", at))
    at += timedelta(seconds=rng.expovariate(1 / 90))  # queue wait
    events.append(
        ConversationAssigned(
            tenant_id=tenant,
            conversation_id=cid,
            occurred_at=at,
            payload=ConversationAssignedPayload(agent_id=agent, inbox_id=inbox, strategy="least_busy", reason="routed"),
        )
    )
    if sla and rng.random() < 0.15:
        events.append(
            ConversationSlaBreached(
                tenant_id=tenant,
                conversation_id=cid,
                occurred_at=at,
                payload=ConversationSlaBreachedPayload(
                    inbox_id=inbox, policy_id=account.policy, target="first_response", due_at=at, agent_id=agent
                ),
            )
        )
    for n in range(1, messages):
        at += timedelta(seconds=rng.expovariate(1 / 60))
        events.append(message("outbound" if n % 2 else "inbound", at))
    at += timedelta(seconds=rng.expovariate(1 / 300))
    events.append(
        ConversationStatusChanged(
            tenant_id=tenant,
            conversation_id=cid,
            occurred_at=at,
            payload=ConversationStatusPayload(inbox_id=inbox, status="resolved", actor_id=agent),
        )
    )
    if rng.random() < 0.35:
        at += timedelta(minutes=2)
        events.append(
            ConversationCsatAnswered(
                tenant_id=tenant,
                conversation_id=cid,
                occurred_at=at,
                payload=ConversationCsatAnsweredPayload(
                    inbox_id=inbox,
                    contact_id=contact,
                    channel=channel,  # type: ignore[arg-type]
                    rating=rng.choice((3, 4, 5, 5, 5, 2, 1)),
                    answered_at=at,
                    agent_id=agent,
                ),
            )
        )
    return events


def batches(
    account: Account, total_messages: int, *, per_conversation: int, batch: int, days: int, seed: int = 19
) -> Iterator[tuple[list[Event], int]]:
    """(events of one consumer poll, messages among them): conversations spread over ``days``, a few dozen
    at a time interleaved by time as the topic's partitions deliver them, each one's events in order."""
    rng = random.Random(seed)
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=days)
    conversations = max(1, total_messages // per_conversation)
    span = (now - timedelta(hours=2) - start).total_seconds()
    pending: list[Event] = []
    done = 0
    while done < conversations:
        group = min(40, conversations - done)
        # Opening times ascend through the month (a live system's stream), jittered within the group.
        base = start + timedelta(seconds=span * done / conversations)
        streams = [
            conversation_events(account, rng, base + timedelta(seconds=rng.uniform(0, 600)), per_conversation)
            for _ in range(group)
        ]
        done += group
        pending += sorted((e for s in streams for e in s), key=lambda e: e.occurred_at)
        while len(pending) >= batch:
            chunk, pending = pending[:batch], pending[batch:]
            yield chunk, sum(isinstance(e, MessageCreated) for e in chunk)
    if pending:
        yield pending, sum(isinstance(e, MessageCreated) for e in pending)


async def fold(
    res: Resources, account: Account, result: ReportsResult, total: int, *, per_conversation: int, batch: int, days: int
) -> None:
    """Folds ``total`` messages' events through the rollup consumer's writer; times only the writer's work."""
    from switchboard_gateway.reports.consumer import RollupWriter

    writer = RollupWriter(res)
    for events, messages in batches(account, total, per_conversation=per_conversation, batch=batch, days=days):
        started = time.perf_counter()
        counted = await writer.write(events)
        result.fold_seconds += time.perf_counter() - started
        result.events += counted
        result.fold_messages += messages
    result.fold_cpu_seconds = writer.cpu_seconds


async def seed(
    res: Resources, account: Account, total: int, *, per_conversation: int, days: int, chunk: int = 50_000
) -> int:
    """Seeds ``total`` more messages' events in bulk through the consumer's fold and upserts (``chunk`` events
    per transaction); returns how many messages."""
    from switchboard_common.domain.accounts.tenancy import cross_tenant_session
    from switchboard_common.domain.reports.rollups import Facts
    from switchboard_gateway.reports import store

    dimensions = store.DimensionIds()
    facts: dict[uuid.UUID, Facts | None] = {}
    teams: dict[uuid.UUID, uuid.UUID | None] = {}
    messages = 0
    # Another seed than the measured fold's: other conversations over the same month.
    polls = batches(account, total, per_conversation=per_conversation, batch=chunk, days=days, seed=1919)
    for polled, count in polls:
        async with cross_tenant_session(res.sessionmaker) as session, session.begin():
            teams.update(await store.inbox_teams(session, polled))
            deltas = store.Deltas()
            store.fold(facts, polled, teams, deltas)
            await store.write_deltas(session, deltas, dimensions)
        messages += count
    return messages


@dataclass
class Latencies:
    p99_ms: dict[str, float] = field(default_factory=dict)
    p50_ms: dict[str, float] = field(default_factory=dict)
    measured: dict[str, int] = field(default_factory=dict)


async def summary_latencies(
    api: str, emails: list[str], requests: int, days: int, *, budget_seconds: float = 120.0
) -> list[Latencies]:
    """p99 and p50 (ms) of the summary over the whole month, per ``group_by``, for each account (its owner's
    login in ``emails``), one request at a time and the accounts' requests interleaved (each round asks every
    account once), and how many requests were measured: at most ``requests``, fewer once ``budget_seconds``
    have gone by for a ``group_by`` (a slow build reports what it measured instead of stalling the bench)."""
    until = utcnow() + timedelta(hours=1)
    since = until - timedelta(days=days + 1)
    params = {"from": since.strftime("%Y-%m-%dT%H:%M:%SZ"), "to": until.strftime("%Y-%m-%dT%H:%M:%SZ")}
    results = [Latencies() for _ in emails]
    async with aiohttp.ClientSession() as http:
        # Logged in now: seeding a million messages on a loaded machine outlasts the access token of the
        # account's creation (15 minutes), and the summaries were refused with 401.
        tokens = [await login(http, api, email) for email in emails]
        for group_by in GROUPS:
            latencies: list[list[float]] = [[] for _ in tokens]
            deadline = time.monotonic() + budget_seconds
            for n in range(requests + 3):
                if latencies[0] and time.monotonic() > deadline:
                    break
                for token, measured in zip(tokens, latencies, strict=True):
                    started = time.perf_counter()
                    async with http.get(
                        f"{api}/api/v1/reports/summary",
                        params={**params, "group_by": group_by},
                        headers={"Authorization": f"Bearer {token}"},
                    ) as response:
                        body = await response.json()
                        if response.status != 200 or not body["groups"]:
                            raise RuntimeError(
                                f"summary by {group_by}: {response.status}, {len(body.get('groups', []))} groups"
                            )
                    if n >= 3:  # the first requests warm the connection pool and caches
                        measured.append((time.perf_counter() - started) * 1000)
            for result, measured in zip(results, latencies, strict=True):
                result.p99_ms[group_by] = percentile(measured, 99)
                result.p50_ms[group_by] = percentile(measured, 50)
                result.measured[group_by] = len(measured)
    return results


async def measure(
    urls: StackUrls,
    *,
    messages: int = 1_000_000,
    per_conversation: int = 10,
    batch: int = 500,
    requests: int = 200,
    days: int = 30,
    fold_messages: int = 100_000,
    baseline_messages: int = 200_000,
) -> ReportsResult:
    """Seeds ``messages`` messages' rollups and measures (servers: a gateway process of its own on ``urls``);
    with ``baseline_messages``, a second account of that many messages is measured side by side."""
    from switchboard_common.domain.encryption.shredding import event_codec
    from switchboard_devstack import free_port
    from switchboard_gateway.settings import GatewaySettings

    from bench.harness import spawn

    env = service_env(urls)
    port = free_port()
    # HTTP only: the rollups are folded here, not by the gateway's own consumer.
    gateway = await spawn(
        "reports-gateway",
        ["-m", "switchboard_gateway", "--host", "127.0.0.1", "--port", str(port), "--no-workers"],
        env,
        port,
    )
    result = ReportsResult(messages=messages, requests_per_group=requests)
    try:
        account = await make_account(gateway.url)
        baseline = await make_account(gateway.url) if baseline_messages else None
        settings = GatewaySettings(
            database_url=urls.database_url,
            redis_url=urls.redis_url,
            kafka_bootstrap_servers=urls.kafka_bootstrap_servers,
            environment="test",
            kafka_namespace=env["KAFKA_NAMESPACE"],
            redis_namespace=env["REDIS_NAMESPACE"],
        )
        res = await Resources.open(settings, event_codec)
        try:
            if baseline is not None:
                result.baseline_messages = await seed(
                    res, baseline, baseline_messages, per_conversation=per_conversation, days=days
                )
            measured = min(messages, fold_messages)
            await fold(res, account, result, measured, per_conversation=per_conversation, batch=batch, days=days)
            started = time.perf_counter()
            seeded = await seed(
                res, account, messages - result.fold_messages, per_conversation=per_conversation, days=days
            )
            result.seed_seconds = time.perf_counter() - started
            result.messages = result.fold_messages + seeded
            result.conversations = max(1, result.messages // per_conversation)
        finally:
            await res.close()
        latencies = await summary_latencies(
            gateway.url, [account.email, *([baseline.email] if baseline is not None else [])], requests, days
        )
        result.p99_ms, result.p50_ms, result.measured_requests = (
            latencies[0].p99_ms,
            latencies[0].p50_ms,
            latencies[0].measured,
        )
        if baseline is not None:
            result.baseline_p99_ms, result.baseline_p50_ms = latencies[1].p99_ms, latencies[1].p50_ms
    finally:
        gateway.stop()
    return result


def rows(result: ReportsResult) -> list[tuple[str, str, str, str]]:
    """(scenario, ours, baseline, ratio/goal) rows for the results table."""
    worst = max(result.p99_ms.values())
    by_group = ", ".join(f"{g} {result.p99_ms[g]:.0f}" for g in GROUPS)
    medians = ", ".join(f"{result.p50_ms[g]:.0f}" for g in GROUPS if g in result.p50_ms)
    fewest = min(result.measured_requests.values(), default=result.requests_per_group)
    baseline, scaling = "-", ""
    if result.baseline_p99_ms:
        baseline_worst = max(result.baseline_p99_ms.values())
        baseline = (
            f"{result.baseline_messages:,} messages, same run, requests interleaved: "
            + ", ".join(f"{g} {result.baseline_p99_ms[g]:.0f}" for g in GROUPS)
            + f" ms (worst {baseline_worst:.0f} ms; medians "
            + ", ".join(f"{result.baseline_p50_ms[g]:.0f}" for g in GROUPS)
            + " ms)"
        )
        ratios = ", ".join(f"{g} x{result.p99_ms[g] / result.baseline_p99_ms[g]:.2f}" for g in GROUPS)
        scaling = f"; p99 x{worst / baseline_worst:.2f} of {result.baseline_messages:,} messages (worst; {ratios})"
    return [
        (
            f"reports over {result.messages:,} messages, p99 (GET /api/v1/reports/summary over a month, "
            f"{fewest if fewest < result.requests_per_group else result.requests_per_group} requests per group_by"
            f"{' within the time budget' if fewest < result.requests_per_group else ''}, one at a time)",
            f"{by_group} ms (worst {worst:.0f} ms; medians {medians} ms)",
            baseline,
            f"goal ≤ {GOAL_MS:.0f} ms: {'met' if worst <= GOAL_MS else 'missed'}{scaling}",
        ),
        (
            f"rollup consumer throughput ({result.events:,} events of {result.fold_messages:,} messages, "
            "the consumer's fold in polls of 500, without the Kafka fetch)",
            f"{result.events_per_second:,.0f} events/s = {result.messages_per_second:,.0f} msg/s "
            f"({result.events_per_cpu_second:,.0f} events per CPU second)",
            "-",
            f"goal 500 msg/s: {'kept up' if result.messages_per_second >= GOAL_MESSAGES_PER_SECOND else 'behind'}",
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reports")
    parser.add_argument("--messages", type=int, default=1_000_000, help="messages whose rollups are seeded")
    parser.add_argument("--requests", type=int, default=200, help="summary requests per group_by")
    parser.add_argument(
        "--fold-messages", type=int, default=100_000, help="messages folded through the consumer's writer (timed)"
    )
    parser.add_argument(
        "--baseline-messages",
        type=int,
        default=200_000,
        help="messages of a second account measured side by side (0: none)",
    )
    args = parser.parse_args(argv)
    from bench.harness import local_stack

    with local_stack() as urls:
        result = asyncio.run(
            measure(
                urls,
                messages=args.messages,
                requests=args.requests,
                fold_messages=args.fold_messages,
                baseline_messages=args.baseline_messages,
            )
        )
    for row in rows(result):
        print(" | ".join(row))


if __name__ == "__main__":
    main()
