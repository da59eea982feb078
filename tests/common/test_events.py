from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from switchboard_common.domain.events import (
    EVENT_CLASSES,
    MessageCreated,
    MessageCreatedPayload,
    UnknownEventType,
    _without_nul,
    json_schema,
    parse_event,
    serialize_event,
    utcnow,
)

SCHEMA_FILE = Path(__file__).parents[2] / "docs" / "events.schema.json"


def test_checked_in_schema_matches_the_models() -> None:
    assert json.loads(SCHEMA_FILE.read_text()) == json.loads(json.dumps(json_schema())), (
        "docs/events.schema.json is stale: run `make schema`"
    )


def test_every_event_type_is_in_the_schema() -> None:
    schema_types = {
        d["properties"]["type"]["const"]
        for d in json_schema()["$defs"].values()
        if "type" in d.get("properties", {}) and "const" in d["properties"]["type"]
    }
    assert schema_types == set(EVENT_CLASSES)


def _message(text: str) -> MessageCreated:
    conversation = uuid.uuid4()
    return MessageCreated(
        tenant_id=uuid.uuid4(),
        conversation_id=conversation,
        payload=MessageCreatedPayload(
            message_id=uuid.uuid4(),
            inbox_id=uuid.uuid4(),
            contact_id=uuid.uuid4(),
            channel="web",
            direction="inbound",
            sender_type="contact",
            text=text,
            created_at=utcnow(),
        ),
    )


@given(st.text(max_size=200))
def test_round_trip(text: str) -> None:
    event = _message(text)
    assert parse_event(serialize_event(event)) == event


def test_partition_key_is_the_conversation() -> None:
    event = _message("hi")
    assert event.partition_key() == str(event.conversation_id).encode()
    assert event.schema_version == 1


def test_unknown_types_are_recognised_not_crashed_on() -> None:
    with pytest.raises(UnknownEventType):
        parse_event(b'{"type": "from.the.future", "schema_version": 2}')


def test_personal_fields_are_marked() -> None:
    payload = json_schema()["$defs"]["MessageCreatedPayload"]["properties"]
    assert payload["text"].get("personal") is True


def test_routing_headers_let_consumers_skip_without_decoding() -> None:
    from switchboard_common.infra.bus import EventFilter, routing_headers

    event = _message("secret words")
    headers = routing_headers(event)
    assert dict(headers) == {
        "event_type": b"message.created",
        "schema_version": b"1",
        "account_id": str(event.tenant_id).encode(),
        "channel": b"web",
        "direction": b"inbound",
        "inbox_id": str(event.payload.inbox_id).encode(),
    }
    assert all(b"secret" not in value for _, value in headers)  # routing metadata only, never content
    outbound_slack = EventFilter(
        types=frozenset({"message.created"}), directions=frozenset({"outbound"}), channels=frozenset({"slack"})
    )
    assert not outbound_slack.wants(headers)
    assert EventFilter(types=frozenset({"message.created"}), directions=frozenset({"inbound"})).wants(headers)
    assert not EventFilter(types=frozenset({"conversation.assigned"})).wants(headers)
    # Records without the headers (published before they existed) reach the handler, which decides.
    assert outbound_slack.wants([("event_type", b"message.created")]) and outbound_slack.wants(None)


def test_nul_characters_never_reach_a_store() -> None:
    """PostgreSQL refuses NUL in text: an accepted message with one must still be storable by every consumer."""
    event = _message("hello\x00 world")
    assert event.payload.text == "hello world"
    assert parse_event(serialize_event(event)).payload.text == "hello world"


@given(
    st.recursive(
        st.text() | st.integers() | st.none(),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.text(st.characters(blacklist_characters="\x00"), max_size=5), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_nul_characters_are_removed_at_any_depth_and_clean_payloads_are_not_copied(value: object) -> None:
    """Every string value loses its NULs however deep (keys are field names); a payload without any is
    handed on as it is (copying every explanation of every routing decision cost a third of its CPU)."""
    cleaned = _without_nul(value)
    assert "\x00" not in json.dumps(cleaned)
    assert json.dumps(cleaned) == json.dumps(value).replace("\\u0000", "")
    if "\\u0000" not in json.dumps(value):
        assert cleaned is value


def test_the_bot_skips_messages_of_conversations_with_humans_from_their_headers() -> None:
    """The status a customer message found its conversation in travels as a header: the bot worker's group
    skips every message of a conversation already with humans without decrypting or parsing it."""
    from switchboard_common.infra.bus import routing_headers
    from switchboard_connectors.channels.dialogflow.bot import BOT_ACCEPTS

    event = _message("hi")

    def found(status: str | None) -> MessageCreated:
        return event.model_copy(update={"payload": event.payload.model_copy(update={"conversation_status": status})})

    assert dict(routing_headers(found("open")))["conversation_status"] == b"open"
    assert not BOT_ACCEPTS.wants(routing_headers(found("open")))
    assert BOT_ACCEPTS.wants(routing_headers(found("bot")))
    # Unknown (None): no header, so the handler decides with a read.
    assert "conversation_status" not in dict(routing_headers(event)) and BOT_ACCEPTS.wants(routing_headers(event))
