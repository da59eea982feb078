"""Widget abuse limits, counted in Redis so every gateway replica shares them."""

from __future__ import annotations

import httpx
from switchboard_devstack.servers import StackUrls

from tests.helpers.api import create_web_inbox, signup, visitor_session
from tests.helpers.live import live_server


async def test_widget_messages_are_rate_limited(stack_urls: StackUrls) -> None:
    async with (
        live_server(stack_urls, WIDGET_MESSAGES_PER_MINUTE="3") as live,
        httpx.AsyncClient(base_url=live.url, timeout=30) as http,
    ):
        tenant = await signup(http)
        inbox = await create_web_inbox(http, tenant)
        visitor = await visitor_session(http, inbox["widget_token"])
        headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
        answers = [
            (await http.post("/api/v1/widget/messages", json={"text": f"m{i}"}, headers=headers)) for i in range(4)
        ]
        assert [a.status_code for a in answers] == [202, 202, 202, 429]
        assert answers[-1].json()["error"]["code"] == "rate_limited" and int(answers[-1].headers["Retry-After"]) >= 1
