"""What the API fuzzer found (issue 21), one regression test each: type confusion and null reaching the
database, schemas that disagreed with validation, and error statuses the schema did not declare."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine
from switchboard_common.domain.conversations import business_hours
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.infra import signing
from switchboard_devstack.servers import StackUrls

from tests.helpers.api import Tenant, create_agent, create_web_inbox, signup, unique_email, visitor_session
from tests.helpers.live import LiveServer

ISSUE_PAYLOAD = {"max_conversations": False, "name": "0", "role": None, "skills": [], "teams": []}


async def _agent(client: httpx.AsyncClient, tenant: Tenant) -> dict:
    agent_id, _ = await create_agent(client, tenant, max_conversations=4)
    return (await client.get(f"/api/v1/agents/{agent_id}", headers=tenant.headers)).json()


async def test_the_reported_agent_update_is_refused_not_a_server_error(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    before = await _agent(client, tenant)
    response = await client.patch(f"/api/v1/agents/{before['id']}", json=ISSUE_PAYLOAD, headers=tenant.headers)
    assert response.status_code == 422, response.text
    refused = {tuple(d["loc"]) for d in response.json()["error"]["details"]}
    assert refused == {("body", "max_conversations"), ("body", "role")}
    assert (await client.get(f"/api/v1/agents/{before['id']}", headers=tenant.headers)).json() == before


@pytest.mark.parametrize(
    "change",
    [
        {"max_conversations": False},
        {"max_conversations": True},
        {"max_conversations": "3"},
        {"max_conversations": 2.5},
        {"role": None},
        {"name": None},
        {"name": "   "},
        {"skills": None},
        {"teams": None},
    ],
)
async def test_agent_updates_refuse_type_confusion_and_null(client: httpx.AsyncClient, change: dict) -> None:
    tenant = await signup(client)
    agent = await _agent(client, tenant)
    response = await client.patch(f"/api/v1/agents/{agent['id']}", json=change, headers=tenant.headers)
    assert response.status_code == 422, (change, response.text)


async def test_agent_update_null_capacity_means_the_account_default(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    agent = await _agent(client, tenant)
    as_float = await client.patch(
        f"/api/v1/agents/{agent['id']}", json={"max_conversations": 3.0}, headers=tenant.headers
    )
    assert as_float.status_code == 200 and as_float.json()["max_conversations"] == 3  # JSON Schema: 3.0 is an integer
    reset = await client.patch(
        f"/api/v1/agents/{agent['id']}", json={"max_conversations": None}, headers=tenant.headers
    )
    assert reset.status_code == 200 and reset.json()["max_conversations"] is None
    assert reset.json()["name"] == agent["name"] and reset.json()["role"] == agent["role"]


async def test_agent_creation_refuses_a_boolean_capacity(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    payload = {"email": "a.b@example.com", "name": "A", "password": "long enough 1", "max_conversations": True}
    assert (await client.post("/api/v1/agents", json=payload, headers=tenant.headers)).status_code == 422


async def test_routing_settings_refuse_null_where_the_router_needs_a_value(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    """Nulls were stored and broke routing (strategy None, "None" as the out-of-hours text): now refused, and
    nulls stored earlier fall back to the defaults."""
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    url = f"/api/v1/inboxes/{inbox['id']}/routing"
    for field in ("strategy", "required_skills", "offer_timeout_seconds", "out_of_hours_message"):
        refused = await client.put(url, json={field: None}, headers=tenant.headers)
        assert refused.status_code == 422, (field, refused.text)
    cleared = await client.put(url, json={"team_id": None, "business_hours": None}, headers=tenant.headers)
    assert cleared.status_code == 200, cleared.text
    engine = create_async_engine(server.env["DATABASE_URL"])
    try:
        async with engine.begin() as connection:
            legacy = {"strategy": None, "required_skills": None, "out_of_hours_message": None}
            stored_earlier = update(Inbox).where(
                Inbox.id == uuid.UUID(inbox["id"]), Inbox.account_id == uuid.UUID(tenant.account_id)
            )
            await connection.execute(stored_earlier.values(routing=legacy))
    finally:
        await engine.dispose()
    stored = (await client.get(url, headers=tenant.headers)).json()
    assert stored["strategy"] == "least_busy" and stored["required_skills"] == []
    assert stored["out_of_hours_message"].startswith("We are closed")
    account = await client.put("/api/v1/routing/settings", json={"grace_seconds": None}, headers=tenant.headers)
    assert account.status_code == 422


async def test_business_hours_take_every_interval_the_schema_allows(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    hours = {"timezone": "Europe/Athens", "weekly": {"fri": [["22:00", "06:00"]], "sun": [["00:00", "00:00"]]}}
    response = await client.put(
        f"/api/v1/inboxes/{inbox['id']}/routing", json={"business_hours": hours}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    unknown_zone = {"timezone": "Mars/Olympus", "weekly": {}}
    refused = await client.put(
        f"/api/v1/inboxes/{inbox['id']}/routing", json={"business_hours": unknown_zone}, headers=tenant.headers
    )
    assert refused.status_code == 422


def test_intervals_past_midnight_and_whole_days() -> None:
    config = {"timezone": "UTC", "weekly": {"fri": [["22:00", "06:00"]], "sun": [["09:00", "09:00"]]}}
    friday = datetime(2030, 1, 4, tzinfo=UTC)  # a Friday
    assert not business_hours.is_open(config, friday.replace(hour=21, minute=59))
    assert business_hours.is_open(config, friday.replace(hour=22))
    assert business_hours.is_open(config, friday.replace(hour=23, minute=59) + timedelta(hours=5))  # Saturday 04:59
    assert not business_hours.is_open(config, friday + timedelta(days=1, hours=6))  # Saturday 06:00
    sunday = friday + timedelta(days=2)
    assert business_hours.is_open(config, sunday.replace(hour=9)) and business_hours.is_open(
        config, sunday + timedelta(days=1, hours=8, minutes=59)
    )
    assert not business_hours.is_open(config, sunday + timedelta(days=1, hours=9))
    assert business_hours.next_opening(config, friday) == friday.replace(hour=22)


async def _conversation(client: httpx.AsyncClient, tenant: Tenant) -> str:
    inbox = await create_web_inbox(client, tenant)
    visitor = await visitor_session(client, inbox["widget_token"])
    sent = await client.post(
        "/api/v1/widget/messages",
        json={"text": "hello"},
        headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
    )
    assert sent.status_code == 202, sent.text
    return str(sent.json()["conversation_id"])


async def test_snooze_states_its_body_and_answers_time_conflicts_with_409(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    conversation = await _conversation(client, tenant)
    url = f"/api/v1/conversations/{conversation}/snooze"
    for body, expected in (
        ({"until": "2030-01-01 00:00:00Z"}, 422),  # not RFC 3339
        ({"until": 1893456000}, 422),  # a Unix time is not the date-time the schema says
        ({"seconds": 60, "until": "2030-01-01T00:00:00Z"}, 422),
        ({"seconds": True}, 422),
        ({"until": "2001-01-01T00:00:00Z"}, 409),
        ({"until": "0001-01-01T00:00:00+01:00"}, 409),  # before year 1 in UTC: was an overflow
        ({"until": "9999-12-31T23:59:59-01:00"}, 409),
        ({"seconds": 60.0}, 200),
    ):
        response = await client.post(url, json=body, headers=tenant.headers)
        assert response.status_code == expected, (body, response.text)
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    snoozed = await client.post(url, json={"until": future}, headers=tenant.headers)
    assert snoozed.status_code == 200 and snoozed.json()["status"] == "snoozed"


async def test_transfer_takes_exactly_one_target(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    conversation = await _conversation(client, tenant)
    url = f"/api/v1/conversations/{conversation}/transfer"
    for body in ({}, {"agent_id": tenant.owner_id, "team_id": str(uuid.uuid4())}, {"note": "x"}):
        assert (await client.post(url, json=body, headers=tenant.headers)).status_code == 422, body
    team = await client.post("/api/v1/teams", json={"name": "Billing"}, headers=tenant.headers)
    moved = await client.post(url, json={"team_id": team.json()["id"], "note": None}, headers=tenant.headers)
    assert moved.status_code == 200, moved.text


async def test_webhook_urls_the_schema_allows_are_refused_only_as_forbidden(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    events = ["message.created"]
    for url in (
        "ftp://example.com/x",
        "http://user:pw@example.com/",
        "http://exa mple.com/",
        "https://a.example:99999/",
    ):
        refused = await client.post("/api/v1/webhooks", json={"url": url, "events": events}, headers=tenant.headers)
        assert refused.status_code == 422, (url, refused.text)
    for url in ("http://127.0.0.1:9/hook", "https://does-not-resolve.invalid/hook"):
        forbidden = await client.post("/api/v1/webhooks", json={"url": url, "events": events}, headers=tenant.headers)
        assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "url_not_allowed", forbidden.text


async def test_webhook_updates_refuse_null(server_with_private_hooks: str) -> None:
    async with httpx.AsyncClient(base_url=server_with_private_hooks, timeout=30) as client:
        tenant = await signup(client)
        created = await client.post(
            "/api/v1/webhooks",
            json={"url": "http://127.0.0.1:9/h", "events": ["message.created"]},
            headers=tenant.headers,
        )
        assert created.status_code == 201, created.text
        url = f"/api/v1/webhooks/{created.json()['id']}"
        for body in ({"enabled": None}, {"url": None}, {"events": None}, {"enabled": "false"}):
            assert (await client.patch(url, json=body, headers=tenant.headers)).status_code == 422, body
        disabled = await client.patch(url, json={"enabled": False}, headers=tenant.headers)
        assert disabled.status_code == 200 and disabled.json()["enabled"] is False


@pytest.fixture(scope="module")
async def server_with_private_hooks(stack_urls: StackUrls):  # type: ignore[no-untyped-def]
    from tests.helpers.live import live_server

    async with live_server(stack_urls, OUTBOUND_ALLOW_PRIVATE="true") as live:
        yield live.url


async def test_inbox_settings_follow_the_channel(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    missing = await client.post("/api/v1/inboxes", json={"name": "S", "channel": "slack"}, headers=tenant.headers)
    assert missing.status_code == 422
    inbox = await create_web_inbox(client, tenant)
    url = f"/api/v1/inboxes/{inbox['id']}"
    other_channel = await client.patch(
        url, json={"settings": {"callback_url": "https://a.example/x"}}, headers=tenant.headers
    )
    assert other_channel.status_code == 409 and other_channel.json()["error"]["code"] == "settings_not_for_channel"
    for settings in ({"pass_through": None}, {"consent_required": "yes"}, {"translations": {"el": {"x": "y"}}}):
        assert (await client.patch(url, json={"settings": settings}, headers=tenant.headers)).status_code == 422
    assert (await client.patch(url, json={"name": None}, headers=tenant.headers)).status_code == 422
    greeted = await client.patch(url, json={"settings": {"greeting": "Hi!"}}, headers=tenant.headers)
    assert greeted.status_code == 200 and greeted.json()["settings"]["greeting"] == "Hi!"


async def test_two_factor_confirmation_with_a_wrong_code_is_forbidden(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    await client.post("/api/v1/auth/2fa/enroll", headers=tenant.headers)
    for code, expected in (("12345", 422), ("abcdef", 422), ("000 000", 403)):
        response = await client.post("/api/v1/auth/2fa/confirm", json={"code": code}, headers=tenant.headers)
        assert response.status_code in (expected, 200), (code, response.text)  # 200: the one code in a million


async def test_405_names_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    response = await client.request("OPTIONS", "/api/v1/teams")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST"}
    assert response.json()["error"]["code"] == "method_not_allowed"


async def test_privacy_requests_state_their_shape(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    url = "/api/v1/privacy/requests"
    for body in (
        {"type": "rectification", "subject": {"email": "a@example.com"}},
        {"type": "rectification", "subject": {"email": "a@example.com"}, "changes": {"name": None}},
        {"type": "erasure", "subject": {"email": "a@example.com"}, "changes": {"name": "x"}},
        {"type": "erasure", "subject": {}},
        {"type": "access", "subject": {"email": None}},
    ):
        assert (await client.post(url, json=body, headers=tenant.headers)).status_code == 422, body
    accepted = await client.post(
        url,
        json={"type": "erasure", "subject": {"identities": [{"channel": "web", "external_id": "v"}]}},
        headers=tenant.headers,
    )
    assert accepted.status_code == 202, accepted.text
    policy = await client.put("/api/v1/privacy/retention", json={"messages": True}, headers=tenant.headers)
    assert policy.status_code == 422


async def test_api_channel_messages_refuse_type_confusion(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    api = await client.post("/api/v1/inboxes", json={"name": "B", "channel": "api"}, headers=tenant.headers)
    inbox_id, secret = api.json()["id"], api.json()["secret"]
    attachment = {"url": "https://files.example/a.png", "size": True}
    for message in ({"id": "1"}, {"id": "2", "text": "   "}, {"id": "3", "attachments": [attachment]}):
        body = json.dumps({"contact": {"external_id": "c"}, "message": message}).encode()
        response = await client.post(
            f"/webhooks/api/{inbox_id}", content=body, headers=signing.signed_headers(secret, body)
        )
        assert response.status_code == 422, (message, response.text)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("account_name", "Acme\u0000"),  # what the fuzzer sent to main: a 500 from PostgreSQL
        ("password", "correct horse\u0000battery"),  # no pattern of its own: the shared base's rule
        ("name", "\u0000Owner"),
    ],
)
async def test_signup_refuses_nul_in_any_text_with_a_422(client: httpx.AsyncClient, field: str, value: str) -> None:
    email = unique_email("nul")
    body = {"account_name": "Acme", "email": email, "password": "correct horse battery", field: value}
    response = await client.post("/api/v1/signup", json=body)
    assert response.status_code == 422, response.text
    [detail] = response.json()["error"]["details"]
    assert detail["loc"] == ["body", field]
    # Nothing was stored: the address is still free.
    body[field] = {"account_name": "Acme", "password": "correct horse battery", "name": "Owner"}[field]
    assert (await client.post("/api/v1/signup", json=body)).status_code == 201


async def test_nul_characters_are_refused_by_the_schema(client: httpx.AsyncClient) -> None:
    """PostgreSQL cannot store NUL in text: the schema's pattern says so, the refusal is a 422, nothing stored."""
    tenant = await signup(client)
    response = await client.post("/api/v1/teams", json={"name": "Bill\u0000ing"}, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["loc"] == ["body", "name"]
    listed = await client.get("/api/v1/teams", headers=tenant.headers)
    assert listed.status_code == 200 and listed.json() == []


def _region_schema(**settings: str) -> dict:
    from switchboard_gateway.app import create_app
    from switchboard_gateway.settings import GatewaySettings

    app = create_app(GatewaySettings(environment="test", **settings), run_workers=False)  # type: ignore[arg-type]
    return app.openapi()["components"]["schemas"]["SignupRequest"]["properties"]["region"]


def test_signup_region_is_what_this_installation_has() -> None:
    """A schema-valid region is one the installation has: its names (several regions), else only null."""
    assert _region_schema()["type"] == "null"
    several = _region_schema(regions="eu,us", directory_url="http://127.0.0.1:9", directory_token="t" * 40)
    assert several["anyOf"] == [{"type": "string", "enum": ["eu", "us"]}, {"type": "null"}]


async def test_signup_with_a_region_this_installation_lacks_is_a_400(client: httpx.AsyncClient) -> None:
    body = {"account_name": "Regional", "email": unique_email("region"), "password": "long enough password"}
    unknown = await client.post("/api/v1/signup", json={**body, "region": "pns"})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_region", unknown.text
    not_a_name = await client.post("/api/v1/signup", json={**body, "region": "PNS"})
    assert not_a_name.status_code == 422, not_a_name.text
    default = await client.post("/api/v1/signup", json={**body, "region": None})
    assert default.status_code == 201, default.text


@pytest.mark.parametrize(
    "settings",
    [
        {"page_id": "1234567890", "page_access_token": "EAAG\u00e9\u00e9\u00e9token"},
        {"page_id": "1234567890", "page_access_token": "EAAG token with spaces"},
        {"team_id": "T0001", "channel_id": "C0001", "bot_token": "xoxb-\u00e9\u00e9\u00e9-token", "bot_user_id": "U1"},
    ],
    ids=["messenger-non-ascii", "messenger-space", "slack-non-ascii"],
)
async def test_platform_tokens_that_no_header_can_carry_are_refused(
    client: httpx.AsyncClient, settings: dict[str, str]
) -> None:
    """Tokens go into an Authorization header to prove ownership: one no header can carry is a 422 by the
    schema's pattern (the fuzzer's non-ASCII token was a 500 when the header was built)."""
    tenant = await signup(client)
    channel = "messenger" if "page_id" in settings else "slack"
    response = await client.post(
        "/api/v1/inboxes", json={"name": "Tokens", "channel": channel, "settings": settings}, headers=tenant.headers
    )
    assert response.status_code == 422, response.text


def test_label_names_mean_the_same_in_the_schema_and_in_validation() -> None:
    """The fuzzer's label with U+0085 was schema-valid (ECMA-262's \\s lacks it) but refused (Python's has it)."""
    import re

    import jsonschema_rs
    from switchboard_gateway.labels.schemas import LABEL_PATTERN

    schema = jsonschema_rs.validator_for({"type": "string", "pattern": LABEL_PATTERN})
    python = re.compile(LABEL_PATTERN)
    probes = [chr(c) for c in range(0x3100) if not 0xD800 <= c <= 0xDFFF] + ["\ufeff", "\U0001f600"]
    differ = [hex(ord(p)) for p in probes if schema.is_valid(f"a{p}b") != bool(python.match(f"a{p}b"))]
    assert not differ
    assert not schema.is_valid("a\x85b") and not schema.is_valid("a b") and schema.is_valid("billing")
