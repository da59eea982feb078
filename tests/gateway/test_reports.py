"""Reports: a scripted day of conversations gives exact figures per agent, inbox, team, channel and label in
the account's time zone; redelivered events count once; CSV matches JSON; the live floor; and the real path
(widget -> Kafka -> rollup consumer) end to end."""

from __future__ import annotations

import csv
import importlib.util
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import delete, event, func, inspect, select, text, true
from sqlalchemy.engine.default import DefaultDialect
from switchboard_common import migrations
from switchboard_common.domain.accounts.tenancy import cross_tenant_session, tenant_session
from switchboard_common.domain.events import (
    ConversationAssigned,
    ConversationAssignedPayload,
    ConversationCreated,
    ConversationCreatedPayload,
    ConversationCsatAnswered,
    ConversationCsatAnsweredPayload,
    ConversationCsatRequested,
    ConversationCsatRequestedPayload,
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
from switchboard_common.domain.reports import histogram
from switchboard_common.domain.reports.models import ReportConversation, ReportGroup
from switchboard_devstack.servers import StackUrls
from switchboard_gateway.reports import service
from switchboard_gateway.reports.consumer import RollupWriter

from tests.helpers.api import (
    Socket,
    Tenant,
    create_agent,
    create_web_inbox,
    eventually,
    online_agent,
    signup,
    visitor_session,
)
from tests.helpers.live import LiveServer, live_server

DAY = datetime(2026, 3, 2, tzinfo=UTC)  # 07:00Z is 09:00 in Athens (UTC+2 in March)


@pytest.fixture(scope="module")
async def system(stack_urls: StackUrls) -> AsyncIterator[LiveServer]:
    async with live_server(stack_urls) as live:
        yield live


class Script:
    def __init__(self, account: uuid.UUID) -> None:
        self.account = account
        self.events: list[Event] = []
        self.contact = uuid.uuid4()

    def at(self, hhmmss: str, day: datetime = DAY) -> datetime:
        h, m, s = (int(x) for x in hhmmss.split(":"))
        return day + timedelta(hours=h, minutes=m, seconds=s)

    def created(self, c: uuid.UUID, inbox: str, channel: str, when: datetime) -> None:
        self.events.append(
            ConversationCreated(
                tenant_id=self.account,
                conversation_id=c,
                occurred_at=when,
                payload=ConversationCreatedPayload(
                    inbox_id=uuid.UUID(inbox),
                    contact_id=self.contact,
                    channel=channel,  # type: ignore[arg-type]
                ),
            )
        )

    def message(self, c: uuid.UUID, inbox: str, channel: str, when: datetime, agent: str | None = None) -> None:
        self.events.append(
            MessageCreated(
                tenant_id=self.account,
                conversation_id=c,
                occurred_at=when,
                payload=MessageCreatedPayload(
                    message_id=uuid.uuid4(),
                    inbox_id=uuid.UUID(inbox),
                    contact_id=self.contact,
                    channel=channel,  # type: ignore[arg-type]
                    direction="outbound" if agent else "inbound",
                    sender_type="agent" if agent else "contact",
                    sender_id=uuid.UUID(agent) if agent else None,
                    text="hello",
                    created_at=when,
                ),
            )
        )

    def assigned(self, c: uuid.UUID, inbox: str, agent: str, when: datetime) -> None:
        self.events.append(
            ConversationAssigned(
                tenant_id=self.account,
                conversation_id=c,
                occurred_at=when,
                payload=ConversationAssignedPayload(
                    agent_id=uuid.UUID(agent), inbox_id=uuid.UUID(inbox), strategy="least_busy"
                ),
            )
        )

    def status(self, c: uuid.UUID, inbox: str, status: str, when: datetime) -> None:
        self.events.append(
            ConversationStatusChanged(
                tenant_id=self.account,
                conversation_id=c,
                occurred_at=when,
                payload=ConversationStatusPayload(inbox_id=uuid.UUID(inbox), status=status),  # type: ignore[arg-type]
            )
        )

    def sla(self, c: uuid.UUID, inbox: str, when: datetime, *, breached: bool = False) -> None:
        policy = uuid.uuid4()
        self.events.append(
            ConversationSlaUpdated(
                tenant_id=self.account,
                conversation_id=c,
                occurred_at=when,
                payload=ConversationSlaUpdatedPayload(inbox_id=uuid.UUID(inbox), policy_id=policy, sla={}),
            )
        )
        if breached:
            self.events.append(
                ConversationSlaBreached(
                    tenant_id=self.account,
                    conversation_id=c,
                    occurred_at=when,
                    payload=ConversationSlaBreachedPayload(
                        inbox_id=uuid.UUID(inbox), policy_id=policy, target="first_response", due_at=when
                    ),
                )
            )

    def csat(self, c: uuid.UUID, inbox: str, rating: int, when: datetime, revision: int = 1) -> None:
        if revision == 1:
            self.events.append(
                ConversationCsatRequested(
                    tenant_id=self.account,
                    conversation_id=c,
                    occurred_at=when,
                    payload=ConversationCsatRequestedPayload(
                        inbox_id=uuid.UUID(inbox), contact_id=self.contact, channel="web", question="?"
                    ),
                )
            )
        self.events.append(
            ConversationCsatAnswered(
                tenant_id=self.account,
                conversation_id=c,
                occurred_at=when,
                payload=ConversationCsatAnsweredPayload(
                    inbox_id=uuid.UUID(inbox),
                    contact_id=self.contact,
                    channel="web",
                    rating=rating,
                    answered_at=when,
                    revision=revision,
                ),
            )
        )

    def labels(self, c: uuid.UUID, inbox: str, labels: list[str], when: datetime) -> None:
        self.events.append(
            ConversationLabelsChanged(
                tenant_id=self.account,
                conversation_id=c,
                occurred_at=when,
                payload=ConversationLabelsChangedPayload(inbox_id=uuid.UUID(inbox), labels=labels),
            )
        )


async def _summary(client: httpx.AsyncClient, tenant: Tenant, group_by: str, **params: str) -> dict[str, Any]:
    response = await client.get(
        "/api/v1/reports/summary",
        params={"from": "2026-03-02", "to": "2026-03-02", "group_by": group_by, **params},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _by_key(body: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    return {g["key"]: g for g in body["groups"]}


async def test_scripted_day(system: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        assert (
            await client.put("/api/v1/account/timezone", headers=tenant.headers, json={"timezone": "Europe/Athens"})
        ).json() == {"timezone": "Europe/Athens"}
        bad_zone = await client.put("/api/v1/account/timezone", headers=tenant.headers, json={"timezone": "Mars/Base"})
        assert bad_zone.status_code == 422
        web = await create_web_inbox(client, tenant)
        team = (await client.post("/api/v1/teams", headers=tenant.headers, json={"name": "Billing"})).json()
        api = (
            await client.post(
                "/api/v1/inboxes", headers=tenant.headers, json={"name": "Shop", "channel": "api", "settings": {}}
            )
        ).json()
        routed = await client.put(
            f"/api/v1/inboxes/{api['id']}/routing", headers=tenant.headers, json={"team_id": team["id"]}
        )
        assert routed.status_code == 200, routed.text
        a, _ = await create_agent(client, tenant, name="Ana")
        b, _ = await create_agent(client, tenant, name="Bo")

        s = Script(uuid.UUID(tenant.account_id))
        c0, c1, c2, c3 = (uuid.uuid4() for _ in range(4))
        s.created(c0, web["id"], "web", s.at("21:30:00", DAY - timedelta(days=1)))  # 23:30 the day before, in Athens
        s.message(c0, web["id"], "web", s.at("21:30:00", DAY - timedelta(days=1)))
        s.created(c1, web["id"], "web", s.at("07:00:00"))
        s.message(c1, web["id"], "web", s.at("07:00:00"))
        s.sla(c1, web["id"], s.at("07:00:01"))
        s.assigned(c1, web["id"], a, s.at("07:01:00"))
        s.message(c1, web["id"], "web", s.at("07:02:00"), agent=a)
        s.status(c1, web["id"], "resolved", s.at("07:10:00"))
        s.csat(c1, web["id"], 4, s.at("07:15:00"))
        s.csat(c1, web["id"], 5, s.at("07:20:00"), revision=2)
        s.created(c2, web["id"], "web", s.at("08:00:00"))
        s.message(c2, web["id"], "web", s.at("08:00:00"))
        s.sla(c2, web["id"], s.at("08:00:01"), breached=True)
        s.assigned(c2, web["id"], b, s.at("08:00:30"))
        s.message(c2, web["id"], "web", s.at("08:05:00"), agent=b)
        s.status(c2, web["id"], "resolved", s.at("09:00:00"))
        s.csat(c2, web["id"], 3, s.at("09:01:00"))
        s.created(c3, api["id"], "api", s.at("09:00:00"))
        s.message(c3, api["id"], "api", s.at("09:00:00"))
        s.assigned(c3, api["id"], a, s.at("09:01:30"))
        s.labels(c3, api["id"], ["billing"], s.at("09:01:40"))
        s.message(c3, api["id"], "api", s.at("09:01:50"))
        s.message(c3, api["id"], "api", s.at("09:02:00"), agent=a)

        writer = RollupWriter(system.resources("gateway"))
        # Out of order across conversations, in order within each (as partitions deliver them), in batches.
        order = sorted(range(len(s.events)), key=lambda i: (str(s.events[i].conversation_id), i))
        assert await writer.write([s.events[i] for i in order[:9]]) == 9
        assert await writer.write([s.events[i] for i in order[9:]]) == len(s.events) - 9

        agents = await _summary(client, tenant, "agent")
        assert agents["group_by"] == "agent"
        assert agents["from"].startswith("2026-03-02T00:00:00+02:00") and agents["to"].startswith(
            "2026-03-03T00:00:00+02:00"
        )
        groups = _by_key(agents)
        assert set(groups) == {None, a, b}
        none = groups[None]
        assert (none["label"], none["conversations_opened"], none["messages_in"], none["messages_out"]) == (
            "Unassigned",
            3,
            3,
            0,
        )
        ana = groups[a]
        assert ana["label"] == "Ana"
        assert (
            ana["conversations_opened"],
            ana["conversations_resolved"],
            ana["messages_in"],
            ana["messages_out"],
        ) == (0, 1, 1, 2)
        assert ana["first_response_seconds"] == {"median": 120.0, "p90": 120.0}
        assert ana["resolution_seconds"] == {"median": 600.0, "p90": 600.0}
        assert ana["queue_wait_seconds"] == {"median": 75.0, "p90": 87.0}
        assert (ana["sla_attainment"], ana["csat_average"], ana["csat_responses"]) == (100.0, 5.0, 1)
        bo = groups[b]
        assert (bo["conversations_resolved"], bo["messages_out"], bo["sla_attainment"], bo["csat_average"]) == (
            1,
            1,
            0.0,
            3.0,
        )
        assert bo["first_response_seconds"]["median"] == 300.0 and bo["queue_wait_seconds"]["median"] == 30.0
        assert bo["resolution_seconds"]["median"] == pytest.approx(3600, rel=0.01)
        assert none["first_response_seconds"] == {"median": None, "p90": None} and none["sla_attainment"] is None

        inboxes = _by_key(await _summary(client, tenant, "inbox"))
        assert inboxes[web["id"]]["label"] == "Website"
        assert [
            inboxes[web["id"]][k]
            for k in ("conversations_opened", "conversations_resolved", "messages_in", "messages_out")
        ] == [2, 2, 2, 2]
        assert inboxes[web["id"]]["sla_attainment"] == 50.0 and inboxes[web["id"]]["csat_average"] == 4.0
        assert [inboxes[api["id"]][k] for k in ("conversations_opened", "messages_in", "messages_out")] == [1, 2, 1]
        teams = _by_key(await _summary(client, tenant, "team"))
        assert teams[team["id"]]["label"] == "Billing" and teams[team["id"]]["conversations_opened"] == 1
        assert teams[None]["conversations_opened"] == 2
        channels = _by_key(await _summary(client, tenant, "channel"))
        assert channels["web"]["conversations_opened"] == 2 and channels["api"]["messages_in"] == 2
        labels = _by_key(await _summary(client, tenant, "label"))
        assert set(labels) == {"billing"}
        assert (labels["billing"]["messages_in"], labels["billing"]["messages_out"]) == (1, 1)
        assert labels["billing"]["first_response_seconds"]["median"] == 120.0
        day_before = _by_key(await _summary(client, tenant, "agent", **{"from": "2026-03-01", "to": "2026-03-01"}))
        assert day_before[None]["conversations_opened"] == 1

        # Redelivered and late events change nothing; what erasure deletes (the consumer's memory) neither.
        assert await writer.write(list(reversed(s.events))) == 0
        res = system.resources("gateway")
        async with cross_tenant_session(res.sessionmaker) as session, session.begin():
            await session.execute(
                delete(ReportConversation).where(ReportConversation.conversation_id.in_([c0, c1, c2, c3]))
            )
        assert await _summary(client, tenant, "agent") == agents

        exported = await client.get(
            "/api/v1/reports/summary",
            params={"from": "2026-03-02", "to": "2026-03-02", "group_by": "agent", "format": "csv"},
            headers=tenant.headers,
        )
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert len(rows) == 3
        ana_row = next(r for r in rows if r["key"] == a)
        assert (
            ana_row["label"] == "Ana"
            and ana_row["queue_wait_seconds_p90"] == "87.0"
            and ana_row["csat_average"] == "5.0"
        )

        for params, code in (
            ({"from": "yesterday"}, "validation_error"),  # the schema's pattern says so
            ({"from": "2026-02-30"}, "invalid_time"),
            ({"from": "2026-03-05", "to": "2026-03-01"}, "invalid_range"),
            ({"from": "2020-01-01", "to": "2026-03-01"}, "range_too_long"),
        ):
            refused = await client.get("/api/v1/reports/summary", params=params, headers=tenant.headers)
            assert refused.status_code == 422 and refused.json()["error"]["code"] == code
        assert (
            await client.get("/api/v1/reports/summary", params={"group_by": "contact"}, headers=tenant.headers)
        ).status_code == 422
        other = await signup(client)
        assert _by_key(await _summary(client, other, "agent")) == {}


def test_rollups_hold_no_person() -> None:
    from switchboard_common.domain.reports.models import ReportDimension, ReportHistogram, ReportRollup

    for model in (ReportRollup, ReportHistogram, ReportDimension, ReportGroup):
        columns = {c.key for c in inspect(model).columns}
        assert not columns & {"contact_id", "conversation_id", "message_id", "text", "email", "name"}


async def test_live_floor_and_the_real_path(system: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        # The owner watches the floor without taking conversations.
        capped = await client.patch(
            f"/api/v1/agents/{tenant.owner_id}", headers=tenant.headers, json={"max_conversations": 0}
        )
        assert capped.status_code == 200, capped.text
        owner = await Socket.open(f"{system.ws_url}/api/v1/ws?token={tenant.token}")
        await owner.wait_for(lambda f: f["type"] == "session.ready")
        inbox = await create_web_inbox(client, tenant)
        visitor = await visitor_session(client, inbox["widget_token"])
        headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
        sent = await client.post("/api/v1/widget/messages", json={"text": "anyone?"}, headers=headers)
        conversation_id = sent.json()["conversation_id"]

        async def queued() -> dict[str, Any] | None:
            body = (await client.get("/api/v1/reports/live", headers=tenant.headers)).json()
            return body if body["queue"]["length"] == 1 else None

        floor = await eventually(queued)
        web = next(i for i in floor["inboxes"] if i["inbox_id"] == inbox["id"])
        assert web["queued"] == 1 and web["longest_wait_seconds"] >= 0 and floor["agents_online"] == 1
        pushed = await owner.wait_for(lambda f: f["type"] == "reports.live" and f["queue"]["length"] == 1)
        assert pushed["inboxes"][0]["queued"] == 1

        agent_id, agent_token, agent = await online_agent(client, system, tenant, name="Ina")
        await agent.wait_for(lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == conversation_id)
        moved = await owner.wait_for(
            lambda f: f["type"] == "reports.live" and f["queue"]["length"] == 0 and f["agents_online"] == 2
        )
        assert next(a for a in moved["agents"] if a["agent_id"] == agent_id)["conversations"] == 1
        _, plain_token = await create_agent(client, tenant)
        assert (
            await client.get("/api/v1/reports/live", headers={"Authorization": f"Bearer {plain_token}"})
        ).status_code == 403

        await client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"text": "here"},
            headers={"Authorization": f"Bearer {agent_token}"},
        )
        await client.post(
            f"/api/v1/conversations/{conversation_id}/resolve", headers={"Authorization": f"Bearer {agent_token}"}
        )
        today = datetime.now(UTC).date().isoformat()

        async def counted() -> dict[str, Any] | None:
            response = await client.get(
                "/api/v1/reports/summary",
                params={"from": today, "to": today, "group_by": "inbox"},
                headers=tenant.headers,
            )
            groups = response.json()["groups"]
            return (
                groups[0]
                if groups and groups[0]["conversations_resolved"] == 1 and groups[0]["messages_out"] == 1
                else None
            )

        group = await eventually(counted, timeout=60)
        assert (group["conversations_opened"], group["messages_in"]) == (1, 1)
        assert (
            group["first_response_seconds"]["median"] is not None and group["queue_wait_seconds"]["median"] is not None
        )
        for socket in (owner, agent):
            await socket.close()


async def test_rollup_batches_of_any_size_reuse_compiled_statements(system: LiveServer) -> None:
    """Every write of a batch is a statement compiled once (executed with its rows), so the consumer does not
    compile SQL per poll: after one batch, a batch of another size is all compiled-cache hits."""
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        web = await create_web_inbox(client, tenant)
    res = system.resources("gateway")
    writer = RollupWriter(res)
    s = Script(uuid.UUID(tenant.account_id))
    for n in range(5):
        c = uuid.uuid4()
        s.created(c, web["id"], "web", s.at(f"07:0{n}:00"))
        for m in range(n + 1):
            s.message(c, web["id"], "web", s.at(f"07:0{n}:1{m}"))
    first, second = s.events[:3], s.events[3:]
    assert await writer.write(first) == len(first)
    ours = {tenant.account_id, *(str(e.event_id) for e in second)}
    hits: list[tuple[str, bool]] = []

    def record(_c: object, _cur: object, statement: str, parameters: object, context: Any, _many: bool) -> None:
        text_of_params = repr(parameters)
        if "report_" in statement and any(value in text_of_params for value in ours):
            hits.append((statement.split("(")[0], context.cache_hit == DefaultDialect.CACHE_HIT))

    event.listen(res.engine.sync_engine, "before_cursor_execute", record)
    try:
        assert await writer.write(second) == len(second)
    finally:
        event.remove(res.engine.sync_engine, "before_cursor_execute", record)
    written = {name for name, _hit in hits}
    assert any("report_seen_events" in n for n in written) and any("report_rollups" in n for n in written), hits
    assert all(hit for _name, hit in hits), hits


def test_a_range_reads_whole_utc_days_and_the_hours_at_its_ends() -> None:
    day = timedelta(days=1)
    # Whole UTC days: days only.
    assert service.spans(DAY, DAY + 2 * day) == ((DAY, DAY + 2 * day), [])
    # Ragged ends: the hours before the first midnight and after the last; a partial hour counts as the rollups
    # count it (the hour starting before ``to`` is in, ``from`` is floored to its hour).
    since, until = DAY - timedelta(hours=2, minutes=30), DAY + day + timedelta(hours=3, minutes=15)
    assert service.spans(since, until) == (
        (DAY, DAY + day),
        [(DAY - timedelta(hours=3), DAY), (DAY + day, DAY + day + timedelta(hours=4))],
    )
    # Less than a day (or a day in another time zone): hours only.
    athens = DAY.astimezone(ZoneInfo("Europe/Athens")).replace(hour=0)
    assert service.spans(athens, athens + day) == ((DAY - timedelta(hours=2),) * 2, [(athens, athens + day)])
    # Half-hour zones: the hours starting inside the range.
    kolkata = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Kolkata"))  # 04:30Z
    assert service.spans(kolkata, kolkata + timedelta(hours=2))[1] == [
        (DAY + timedelta(hours=5), DAY + timedelta(hours=7))
    ]


async def test_group_rows_answer_exactly_as_the_dimension_rollups(system: LiveServer) -> None:
    """``report_groups`` (what a summary reads) gives the figures the per-dimension rollups give, for every
    ``group_by`` and for ranges of whole days, ragged ends and single hours; batches merge their histograms
    and a redelivered batch counts nothing; and the migration's backfill rebuilds the same rows."""
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        web = await create_web_inbox(client, tenant)
        team = (await client.post("/api/v1/teams", headers=tenant.headers, json={"name": "Sales"})).json()
        api = (
            await client.post(
                "/api/v1/inboxes", headers=tenant.headers, json={"name": "Shop", "channel": "api", "settings": {}}
            )
        ).json()
        await client.put(f"/api/v1/inboxes/{api['id']}/routing", headers=tenant.headers, json={"team_id": team["id"]})
        agents = [(await create_agent(client, tenant, name=name))[0] for name in ("Ana", "Bo", "Cy")]
    account = uuid.UUID(tenant.account_id)
    s = Script(account)
    for n in range(30):  # over two UTC days and the evening before, durations repeating and not
        c = uuid.uuid4()
        inbox, channel = (web["id"], "web") if n % 3 else (api["id"], "api")
        opened = DAY - timedelta(hours=5) + timedelta(minutes=97 * n)
        agent = agents[n % len(agents)]
        s.created(c, inbox, channel, opened)
        s.message(c, inbox, channel, opened)
        if n % 4 == 0:
            s.labels(c, inbox, ["vip", "billing"] if n % 8 else ["billing"], opened)
        s.sla(c, inbox, opened, breached=n % 5 == 0)
        s.assigned(c, inbox, agent, opened + timedelta(seconds=30 + 7 * (n % 6)))
        s.message(c, inbox, channel, opened + timedelta(seconds=90 + 13 * (n % 4)), agent=agent)
        if n % 7:
            s.status(c, inbox, "resolved", opened + timedelta(minutes=20 + 11 * (n % 9)))
            s.csat(c, inbox, 1 + n % 5, opened + timedelta(minutes=25 + 11 * (n % 9)))
    res = system.apps["gateway"].state.resources  # type: ignore[attr-defined]
    writer = RollupWriter(res)
    third = len(s.events) // 3
    for batch in (s.events[:third], s.events[third : 2 * third], s.events[2 * third :], s.events[:third]):
        await writer.write(batch)
    ranges = [
        (DAY - timedelta(days=1), DAY + timedelta(days=2)),  # whole days
        (DAY - timedelta(hours=4, minutes=20), DAY + timedelta(days=1, hours=9, minutes=40)),  # ragged ends
        (DAY + timedelta(hours=6), DAY + timedelta(hours=8)),  # hours
        (DAY.astimezone(ZoneInfo("Europe/Athens")), DAY.astimezone(ZoneInfo("Europe/Athens")) + timedelta(days=1)),
    ]

    async def both() -> list[list[dict[str, Any]]]:
        answers = []
        async with tenant_session(res.sessionmaker, account) as session:
            for group_by in service.GROUPS:
                for since, until in ranges:
                    fast = await service.summary(session, account, since, until, group_by)
                    exact = await service.summary(session, account, since, until, group_by, restrict=true())
                    assert fast == exact, (group_by, since, until)
                    answers.append(fast)
        return answers

    answers = await both()
    whole = answers[0::4]
    assert all(groups for groups in whole)
    by_agent = {g["label"]: g for g in whole[0]}
    assert sum(g["conversations_resolved"] for g in by_agent.values()) == 25
    assert by_agent["Ana"]["queue_wait_seconds"]["median"] is not None
    assert {g["label"] for g in whole[4]} == {"billing", "vip"}

    # Batches append to a row's histograms; the writer folds them back into one entry per bin.
    async with cross_tenant_session(res.sessionmaker) as session:
        stored = (
            await session.execute(
                select(ReportGroup.first_response, ReportGroup.resolution, ReportGroup.queue_wait).where(
                    ReportGroup.account_id == account
                )
            )
        ).all()
    entries = [histogram.unpack(packed) for row in stored for packed in row]
    assert all(histogram.is_compact(values) for values in entries)
    assert sum(int((values & histogram.COUNT_MASK).sum()) for values in entries) > sum(map(len, entries))

    # Migration 0017's backfill builds the same rows from the per-dimension rollups (into a temporary
    # report_groups of 0017's shape, which shadows the real one), and 0018 turns its bigint[] histograms into
    # the bytes the real one holds.
    backfill, to_bytes = _migration("0017_report_groups"), _migration("0018_report_histogram_bytes")
    metrics = to_bytes.METRICS
    async with cross_tenant_session(res.sessionmaker) as session, session.begin():
        before = (await session.execute(select(func.count()).where(ReportGroup.account_id == account))).scalar_one()
        await session.execute(delete(ReportGroup).where(ReportGroup.account_id == account))
        await session.execute(text("CREATE TEMPORARY TABLE report_groups (LIKE public.report_groups) ON COMMIT DROP"))
        await session.execute(
            text(
                "ALTER TABLE pg_temp.report_groups "
                + ", ".join(f"ALTER COLUMN {name} TYPE bigint[] USING NULL" for name in metrics)
            )
        )
        for group_by in backfill.KEYS:
            for span in backfill.STARTS:
                await session.execute(
                    text(
                        backfill._backfill(group_by, span).replace(
                            "WHERE d.label", "WHERE x.account_id = :a AND d.label"
                        )
                    ),
                    {"a": account},
                )
        columns = ", ".join(("account_id", "group_by", "span", "start", "key", *backfill.COUNTERS))
        await session.execute(
            text(
                f"INSERT INTO public.report_groups ({columns}, {', '.join(metrics)}) "  # noqa: S608
                f"SELECT {columns}, {', '.join(to_bytes.to_bytes(name) for name in metrics)} FROM pg_temp.report_groups"
            )
        )
        after = (await session.execute(select(func.count()).where(ReportGroup.account_id == account))).scalar_one()
    assert after == before > 0
    assert await both() == answers


def _migration(name: str) -> Any:
    """A migration's module (its SQL builders), loaded from its file."""
    spec = importlib.util.spec_from_file_location(name, Path(migrations.__file__).parent / "versions" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
