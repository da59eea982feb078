"""The reports bench seeds what the system publishes: every message counted once, each conversation's events in
order and folding into opened, resolved, first-response and CSAT figures (the pure reducer, no servers)."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict

from aiohttp import web
from switchboard_common.domain.events import Event, MessageCreated
from switchboard_common.domain.reports import rollups

from bench.reports import GROUPS, PASSWORD, Account, ReportsResult, batches, rows, summary_latencies


def _account() -> Account:
    return Account(
        id=uuid.uuid4(),
        token="-",
        agents=[uuid.uuid4() for _ in range(3)],
        teams=[uuid.uuid4()],
        inboxes=[uuid.uuid4() for _ in range(2)],
        policy=uuid.uuid4(),
    )


def test_seeded_events_fold_into_every_report_figure() -> None:
    polls = list(batches(_account(), 2_000, per_conversation=10, batch=500, days=3))
    assert all(len(events) <= 500 for events, _ in polls)
    assert sum(messages for _, messages in polls) == 2_000
    events: list[Event] = [e for poll, _ in polls for e in poll]
    assert sum(isinstance(e, MessageCreated) for e in events) == 2_000

    by_conversation: dict[uuid.UUID | None, list[Event]] = defaultdict(list)
    for event in events:
        by_conversation[event.conversation_id].append(event)
    assert len(by_conversation) == 200
    counters: Counter[str] = Counter()
    metrics: Counter[int] = Counter()
    for conversation in by_conversation.values():
        assert conversation[0].type == "conversation.created"
        assert conversation == sorted(conversation, key=lambda e: e.occurred_at)  # delivered in order
        facts = None
        for event in conversation:
            facts, deltas = rollups.apply(facts, event)
            for delta in deltas:
                if delta.counter:
                    counters[delta.counter] += delta.amount
                if delta.metric is not None:
                    metrics[delta.metric] += 1
    assert counters["conversations_opened"] == counters["conversations_resolved"] == 200
    assert counters["messages_in"] + counters["messages_out"] == 2_000
    assert 0 < counters["sla_met"] < counters["sla_conversations"] < 200
    assert 0 < counters["csat_responses"] < 200
    for metric in ("first_response", "resolution", "queue_wait"):
        assert metrics[rollups.METRICS[metric]] == 200


def test_rows_say_whether_the_goals_are_met() -> None:
    result = ReportsResult(messages=1_000, conversations=100, events=1_400, fold_seconds=0.5, fold_cpu_seconds=0.4)
    result.fold_messages = 1_000
    result.requests_per_group = 20
    result.p99_ms = {g: 12.0 for g in ("agent", "team", "inbox", "channel", "label")}
    result.p99_ms["label"] = 250.0
    latency, throughput = rows(result)
    assert "label 250 ms" in latency[1] and "missed" in latency[3]
    assert "2,000 msg/s" in throughput[1] and "kept up" in throughput[3]


def test_rows_give_the_larger_account_as_a_multiple_of_the_smaller_measured_alongside() -> None:
    result = ReportsResult(messages=1_000_000, events=1_400, fold_seconds=0.5, fold_cpu_seconds=0.4)
    result.requests_per_group = 20
    result.p99_ms = {g: 30.0 for g in ("agent", "team", "inbox", "channel", "label")}
    result.p50_ms = dict.fromkeys(result.p99_ms, 10.0)
    result.baseline_messages = 200_000
    result.baseline_p99_ms = dict.fromkeys(result.p99_ms, 20.0)
    result.baseline_p99_ms["agent"] = 24.0
    result.baseline_p50_ms = dict.fromkeys(result.p99_ms, 8.0)
    latency, _throughput = rows(result)
    assert latency[2].startswith("200,000 messages, same run") and "agent 24" in latency[2]
    assert "met; p99 x1.25 of 200,000 messages" in latency[3] and "agent x1.25, team x1.50" in latency[3]


async def test_the_summaries_are_asked_with_a_token_taken_after_seeding() -> None:
    """Seeding a million messages on a loaded machine outlasts an access token (15 minutes): the summaries log
    in again first, each account as its owner, instead of reusing the token of the account's creation."""
    tokens: dict[str, str] = {}
    asked: list[tuple[str, str]] = []

    async def login(request: web.Request) -> web.Response:
        body = await request.json()
        assert body["password"] == PASSWORD
        tokens[body["email"]] = token = f"fresh-{len(tokens)}"
        return web.json_response({"access_token": token})

    async def summary(request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in tokens.values():
            return web.json_response({"error": {"code": "unauthorized"}}, status=401)
        asked.append((token, request.query["group_by"]))
        return web.json_response({"groups": [{"key": None}]})

    app = web.Application()
    app.router.add_post("/api/v1/auth/login", login)
    app.router.add_get("/api/v1/reports/summary", summary)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # the free port it took
    try:
        latencies = await summary_latencies(f"http://127.0.0.1:{port}", ["a@example.com", "b@example.com"], 2, 1)
    finally:
        await runner.cleanup()
    assert [result.measured for result in latencies] == [dict.fromkeys(GROUPS, 2)] * 2
    # Interleaved: each round asks the first account, then the second.
    assert [token for token, _group in asked[:4]] == ["fresh-0", "fresh-1"] * 2
