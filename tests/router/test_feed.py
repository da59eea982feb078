"""The feed's choice of records and their routing key: from record headers alone when the record carries them
(no JSON parse per record on the router's busiest consumer), from the event's JSON for older records."""

from __future__ import annotations

import json
import uuid

from aiokafka import ConsumerRecord
from switchboard_router.feed import routing_key
from switchboard_router.writer import ORIGIN_HEADER


def _record(value: bytes, headers: list[tuple[str, bytes]]) -> ConsumerRecord:
    return ConsumerRecord("conversations", 0, 0, 0, 0, b"k", value, None, 1, len(value), headers)


def test_the_account_header_keys_a_forwarded_record_without_parsing_it() -> None:
    account = str(uuid.uuid4()).encode()
    # Not JSON at all: a parse would skip it, so the key can only have come from the headers.
    record = _record(b"sealed bytes", [("event_type", b"message.created"), ("account_id", account)])
    assert routing_key(record) == account


def test_records_without_the_account_header_are_keyed_from_their_json() -> None:
    account = str(uuid.uuid4())
    value = json.dumps({"type": "conversation.created", "tenant_id": account}).encode()
    assert routing_key(_record(value, [("event_type", b"conversation.created")])) == account.encode()
    assert routing_key(_record(value, [])) == account.encode()
    assert routing_key(_record(b"not json", [("event_type", b"message.created")])) is None


def test_other_types_and_the_routers_own_records_are_skipped() -> None:
    account = str(uuid.uuid4()).encode()
    assigned = [("event_type", b"conversation.assigned"), ("account_id", account)]
    assert routing_key(_record(b"{}", assigned)) is None
    own = [("event_type", b"message.created"), ("account_id", account), ORIGIN_HEADER]
    assert routing_key(_record(b"{}", own)) is None
