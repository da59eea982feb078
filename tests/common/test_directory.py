"""The global directory (server and client) and how a region picks the region of a request."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from switchboard_common.infra.directory import Directory, TakenElsewhere
from switchboard_common.infra.directory_server import create_directory_app
from switchboard_common.infra.regions import RegionResolver, jwt_account, tag, tagged_region
from switchboard_common.infra.settings import CommonSettings
from switchboard_common.infra.tokens import issue

REGIONS = "eu,us"


def settings_of(tmp_path: Path, region: str, **overrides: str) -> CommonSettings:
    return CommonSettings(
        regions=REGIONS,
        region=region,
        directory_url="http://directory",
        directory_data_dir=str(tmp_path / "directory"),
        **overrides,
    )


@pytest.fixture
def app(tmp_path: Path):  # type: ignore[no-untyped-def]
    app = create_directory_app(settings_of(tmp_path, "eu"))
    yield app
    app.state.store.close()


def client_of(app, tmp_path: Path, region: str) -> Directory:  # type: ignore[no-untyped-def]
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://directory")
    return Directory(settings_of(tmp_path, region), client=http)


async def test_claims_lookups_and_releases(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    eu, us = client_of(app, tmp_path, "eu"), client_of(app, tmp_path, "us")
    assert await eu.lookup("slack_team", "T0123") is None
    assert await eu.claim("slack_team", "T0123") is True
    assert await eu.claim("slack_team", "T0123") is False  # already ours: idempotent
    with pytest.raises(TakenElsewhere) as taken:
        await us.claim("slack_team", "T0123")
    assert taken.value.region == "eu"
    assert await us.lookup("slack_team", "T0123") == "eu"
    await us.release("slack_team", "T0123")  # not us's: kept
    assert await client_of(app, tmp_path, "us").lookup("slack_team", "T0123") == "eu"
    await eu.release("slack_team", "T0123")
    assert await client_of(app, tmp_path, "us").lookup("slack_team", "T0123") is None
    assert await us.claim("slack_team", "T0123") is True


async def test_directory_refuses_strangers_and_bad_input(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://directory") as http:
        url = "/directory/v1/entries/account/0b6f2c1e-0000-4000-8000-000000000001"
        assert (await http.get(url)).json()["error"]["code"] == "unauthorized"
        wrong = await http.get(url, headers={"authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401
        good = {"authorization": client_of(app, tmp_path, "eu")._headers["authorization"]}
        assert (await http.get("/directory/v1/entries/phone/123", headers=good)).status_code == 404
        assert (await http.get("/directory/v1/entries/account/a b", headers=good)).status_code == 422
        mars = await http.put(url, json={"region": "mars"}, headers=good)
        assert mars.status_code == 422
        assert mars.json()["error"]["details"]["regions"] == ["eu", "us"]


async def test_login_emails_are_keyed_pseudonyms(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    eu = client_of(app, tmp_path, "eu")
    key = eu.email_key(" Ada@Example.com ")
    assert key == client_of(app, tmp_path, "us").email_key("ada@example.com")  # every region derives the same
    await eu.claim("email", key)
    stored = b"".join(p.read_bytes() for p in (tmp_path / "directory").iterdir())
    assert b"ada" not in stored.lower() and b"example" not in stored.lower()


def test_single_region_installations_have_no_directory(tmp_path: Path) -> None:
    settings = CommonSettings()
    assert not Directory(settings).enabled
    assert tag(settings, "abc", "sbr_") == "sbr_abc"


def test_tagged_tokens_name_their_region(tmp_path: Path) -> None:
    settings = settings_of(tmp_path, "us")
    assert tag(settings, "abc", "sbt_") == "sbt_us.abc"
    assert tagged_region("sbt_us.abc", ["eu", "us"]) == "us"
    assert tagged_region("us.abc", ["eu", "us"]) == "us"
    assert tagged_region("sbt_abc", ["eu", "us"]) is None
    assert tagged_region("mars.abc", ["eu", "us"]) is None


def _scope(method: str, path: str, headers: dict[str, str] | None = None, query: str = "") -> dict:  # type: ignore[type-arg]
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query.encode(),
        "headers": [(k.encode(), v.encode()) for k, v in (headers or {}).items()],
    }


async def test_resolver_finds_the_region_of_each_kind_of_request(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    us = client_of(app, tmp_path, "us")
    account = "5f0c6a0e-1111-4000-8000-000000000002"
    inbox = "5f0c6a0e-2222-4000-8000-000000000003"
    for kind, key in (("account", account), ("inbox", inbox), ("slack_team", "T9"), ("messenger_page", "P9")):
        await us.claim(kind, key)  # type: ignore[arg-type]
    await us.claim("email", us.email_key("agent@example.com"))
    resolver = RegionResolver(["eu", "us"], "eu", client_of(app, tmp_path, "eu"))

    async def region(scope: dict, body: object = None) -> list[str]:  # type: ignore[type-arg]
        return await resolver.resolve(scope, json.dumps(body).encode() if body is not None else None)

    assert await region(_scope("POST", "/api/v1/signup"), {"region": "us"}) == ["us"]
    assert await region(_scope("POST", "/api/v1/signup"), {}) == ["eu"]
    assert await region(_scope("POST", "/api/v1/auth/login"), {"email": "agent@example.com"}) == ["us"]
    assert await region(_scope("POST", "/api/v1/auth/login"), {"email": "nobody@example.com"}) == []
    assert await region(_scope("POST", "/webhooks/slack/events"), {"team_id": "T9"}) == ["us"]
    assert await region(_scope("POST", "/webhooks/messenger"), {"entry": [{"id": "P9"}, {"id": "P0"}]}) == ["us"]
    assert await region(_scope("POST", f"/webhooks/api/{inbox}")) == ["us"]
    token = issue("x" * 32, kind="agent", subject=account, account_id=account, ttl_seconds=60)  # type: ignore[arg-type]
    assert jwt_account(token) == account
    assert await region(_scope("GET", "/api/v1/me", {"authorization": f"Bearer {token}"})) == ["us"]
    assert await region(_scope("GET", "/api/v1/me", {"authorization": "Bearer sbt_us.secret"})) == ["us"]
    assert await region(_scope("POST", "/api/v1/auth/refresh"), {"refresh_token": "sbr_us.secret"}) == ["us"]
    assert await region(_scope("POST", "/api/v1/widget/sessions"), {"widget_token": "us.abc"}) == ["us"]
    assert await region(_scope("GET", "/api/v1/widget/config", query="widget_token=us.abc")) == ["us"]
    assert await region(_scope("POST", "/api/v1/privacy/confirm/us.abc")) == ["us"]
    assert await region(_scope("GET", "/api/v1/integrations/slack/callback", query="region=us")) == ["us"]
    assert await region(_scope("GET", "/")) == []  # names none: the default region serves it
