"""The bot configuration a client sends against what is stored: the client never sets whether the inbox has
its own fulfillment password (the gateway derives it), and the password is held to its limits."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from switchboard_common.domain.inboxes.bot_config import BotConfigIn, BotSettings

CONFIG: dict[str, Any] = {
    "project_id": "shop-bot-1",
    "client_id": "client",
    "client_secret": "secret",
    "refresh_token": "refresh",
}


def test_clients_cannot_claim_fulfillment_credentials() -> None:
    with pytest.raises(ValidationError) as refused:
        BotConfigIn.model_validate({**CONFIG, "fulfillment_credentials": True})
    assert refused.value.errors()[0]["type"] == "extra_forbidden"
    assert "fulfillment_credentials" not in BotConfigIn.model_json_schema()["properties"]


@pytest.mark.parametrize(("password", "own"), [(None, False), ("a fulfillment password", True)])
def test_stored_settings_say_whether_the_inbox_has_its_own_password(password: str | None, own: bool) -> None:
    config = BotConfigIn.model_validate({**CONFIG, "fulfillment_password": password})
    stored = config.stored_settings()
    assert isinstance(stored, BotSettings) and stored.fulfillment_credentials is own
    assert not {"client_id", "client_secret", "refresh_token", "fulfillment_password"} & set(stored.model_dump())


def test_a_short_fulfillment_password_is_refused() -> None:
    with pytest.raises(ValidationError):
        BotConfigIn.model_validate({**CONFIG, "fulfillment_password": "short"})
