"""Connecting a Messenger page or a Slack workspace proves it is yours, where the platform lets us ask.

* Messenger: ``GET {GRAPH_API_URL}/me`` with the page access token answers the page the token belongs to; it
  must be the ``page_id`` the inbox names (a user token, another page's token or a made-up one is refused).
* Slack: ``auth.test`` at ``SLACK_API_URL`` with the bot token answers the workspace the token belongs to; it
  must be the ``team_id`` the inbox names. (The OAuth install proves it by itself: Slack names the team.)

Refusals are ``403 channel_not_owned`` (the token belongs elsewhere) or ``403 invalid_channel_token`` (the
platform does not accept it); a platform that cannot be reached is ``403 platform_unavailable``: nothing is
connected without an answer. All 403: the request is well formed (its schema cannot know what the platform will
say) and our server did not fail; the proof of ownership is missing. Tokens never appear in errors or logs.
"""

from __future__ import annotations

from typing import Any

import httpx
import structlog
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.settings import CommonSettings

log = structlog.get_logger(__name__)
TIMEOUT_SECONDS = 10.0


def _unavailable(platform: str) -> AppError:
    return AppError(403, "platform_unavailable", f"{platform} did not answer, so ownership is not proven; try again")


def _not_owned(what: str) -> AppError:
    return AppError(403, "channel_not_owned", f"the token does not belong to this {what}")


def _invalid(platform: str, reason: str) -> AppError:
    return AppError(403, "invalid_channel_token", f"{platform} refused the token ({reason})")


async def _answer(call: Any, platform: str) -> tuple[int, dict[str, Any]]:
    try:
        response = await call
    except httpx.HTTPError as exc:
        log.warning("ownership_check_unavailable", channel=platform, error=type(exc).__name__)
        raise _unavailable(platform) from None
    if response.status_code == 429 or response.status_code >= 500:
        raise _unavailable(platform)
    try:
        data = response.json()
    except ValueError:
        raise _unavailable(platform) from None
    return response.status_code, data if isinstance(data, dict) else {}


async def prove_messenger_page(settings: CommonSettings, page_id: str, page_token: str) -> None:
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as http:
        status, data = await _answer(
            http.get(
                f"{settings.graph_api_url}/me",
                params={"fields": "id"},
                headers={"Authorization": f"Bearer {page_token}"},
            ),
            "Graph API",
        )
    error = data.get("error")
    if status >= 400 or isinstance(error, dict):
        code = error.get("code") if isinstance(error, dict) else None
        raise _invalid("the Graph API", f"error {code}" if code is not None else f"HTTP {status}")
    if str(data.get("id") or "") != page_id:
        raise _not_owned("Messenger page")


async def prove_slack_team(settings: CommonSettings, team_id: str, bot_token: str) -> None:
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as http:
        _status, data = await _answer(
            http.post(f"{settings.slack_api_url}/auth.test", headers={"Authorization": f"Bearer {bot_token}"}),
            "Slack",
        )
    if data.get("ok") is not True:
        raise _invalid("Slack", str(data.get("error") or "not ok")[:60])
    if str(data.get("team_id") or "") != team_id:
        raise _not_owned("Slack workspace")


async def prove(settings: CommonSettings, channel: str, public: dict[str, Any], secrets: dict[str, Any]) -> None:
    """Asks the platform whether the inbox's token belongs to the page or workspace it names."""
    if channel == "messenger":
        await prove_messenger_page(settings, str(public["page_id"]), str(secrets["page_access_token"]))
    elif channel == "slack":
        await prove_slack_team(settings, str(public["team_id"]), str(secrets["bot_token"]))
