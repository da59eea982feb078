"""The Messenger normalizer and signature check: arbitrary JSON never crashes them, and well-formed webhook
payloads map to valid events (customer messages and receipts; echoes and standby events are not)."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from switchboard_common.events import InboundMessageReceived, InboundReceiptReceived
from switchboard_connectors.channels.messenger import _event_for, split_text
from switchboard_connectors.channels.messenger_events import normalize, verify_signature
from switchboard_connectors.webhooks import InboxRecord

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=30,
)
ids = st.integers(min_value=1, max_value=10**16).map(str)
INBOX = InboxRecord(id=uuid.uuid4(), account_id=uuid.uuid4(), channel="messenger", name="Page", settings={}, secrets={})


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@given(json_values)
def test_arbitrary_json_never_crashes(value: Any) -> None:
    assert isinstance(normalize(value), list)
    assert isinstance(normalize({"object": "page", "entry": [value]}), list)
    normalize({"object": "page", "entry": [{"id": "1", "messaging": [value], "standby": [value]}]})


@st.composite
def page_events(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    page, psid = draw(ids), draw(ids)
    if psid == page:
        psid = page + "1"
    kind = draw(st.sampled_from(["text", "attachment", "quick_reply", "postback"]))
    mid = "m_" + draw(st.text(alphabet="abcdefXYZ0123456789-_", min_size=5, max_size=40))
    timestamp = draw(st.integers(min_value=1_500_000_000_000, max_value=2_000_000_000_000))
    text = draw(st.text(min_size=1, max_size=300).filter(lambda t: t != ""))
    event: dict[str, Any] = {"sender": {"id": psid}, "recipient": {"id": page}, "timestamp": timestamp}
    if kind == "text":
        event["message"] = {"mid": mid, "text": text}
    elif kind == "quick_reply":
        event["message"] = {"mid": mid, "text": text, "quick_reply": {"payload": "YES"}}
    elif kind == "attachment":
        att_type = draw(st.sampled_from(["image", "audio", "video", "file"]))
        event["message"] = {"mid": mid, "attachments": [{"type": att_type, "payload": {"url": "https://cdn/x"}}]}
    else:
        event["postback"] = {"mid": mid, "title": text, "payload": "GET_STARTED"}
    return page, psid, event


@settings(max_examples=200)
@given(st.lists(page_events(), min_size=1, max_size=5))
def test_well_formed_batches_map_to_valid_events(events: list[tuple[str, str, dict[str, Any]]]) -> None:
    body = {"object": "page", "entry": [{"id": page, "time": 1, "messaging": [event]} for page, _, event in events]}
    items = normalize(json.loads(json.dumps(body)))
    assert len(items) == len(events)
    for item, (page, psid, _event) in zip(items, events, strict=True):
        assert (item.kind, item.page_id, item.psid) == ("message", page, psid)
        event = _event_for(INBOX, item)
        assert isinstance(event, InboundMessageReceived)
        assert event.payload.external_contact_id == f"{page}:{psid}"
        assert event.payload.text or event.payload.attachments
        InboundMessageReceived.model_validate_json(event.model_dump_json())


def test_echoes_standby_and_receipts() -> None:
    page, user = "111", "222"
    base = {"sender": {"id": user}, "recipient": {"id": page}, "timestamp": 1_700_000_000_000}
    body = {
        "object": "page",
        "entry": [
            {
                "id": page,
                "time": 1,
                "messaging": [
                    {
                        "sender": {"id": page},
                        "recipient": {"id": user},
                        "timestamp": 1,
                        "message": {"mid": "m_echo", "text": "ours", "is_echo": True, "app_id": 1},
                    },
                    {**base, "delivery": {"mids": ["m_out_1"], "watermark": 1_700_000_000_500}},
                    {**base, "read": {"watermark": 1_700_000_001_000}},
                    {**base, "reaction": {"mid": "m_out_1", "action": "react", "emoji": "x"}},
                ],
            },
            {"id": page, "time": 2, "standby": [{**base, "message": {"mid": "m_standby", "text": "for Page Inbox"}}]},
        ],
    }
    items = normalize(body)
    assert [(i.kind, i.mids) for i in items] == [("delivered", ["m_out_1"]), ("read", [])]
    assert items[1].watermark == datetime.fromtimestamp(1_700_000_001, UTC)
    receipt = _event_for(INBOX, items[0])
    assert isinstance(receipt, InboundReceiptReceived) and receipt.payload.status == "delivered"


@given(st.binary(max_size=200), st.text(max_size=80))
def test_signature_check_never_raises_and_rejects_forgeries(body: bytes, header: str) -> None:
    assert verify_signature("app-secret", body, sign("app-secret", body))
    assert not verify_signature("app-secret", body, sign("other", body))
    assert verify_signature("app-secret", body, header) == (header == sign("app-secret", body))
    assert not verify_signature("", body, sign("", body))


@given(st.text(max_size=7000))
def test_split_text_keeps_chunks_within_the_limit(text: str) -> None:
    chunks = split_text(text)
    assert all(0 < len(c) <= 2000 for c in chunks)
    assert "".join(chunks).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")
