"""The Messenger normalizer and signature check: arbitrary JSON never crashes them, and well-formed webhook
payloads map to valid events (customer messages, receipts and handover notifications; echoes are not, and
standby messages are flagged)."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from switchboard_common.domain.events import InboundHandoverReceived, InboundMessageReceived, InboundReceiptReceived
from switchboard_connectors.channels.messenger.normalizer import normalize, verify_signature
from switchboard_connectors.channels.messenger.outbound import split_text
from switchboard_connectors.channels.messenger.webhook import _event_for
from switchboard_connectors.ingress import InboxRecord

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
    for key in ("pass_thread_control", "take_thread_control", "request_thread_control"):
        event = {"sender": {"id": "2"}, "recipient": {"id": "1"}, "timestamp": value, key: value}
        for item in normalize({"object": "page", "entry": [{"id": "1", "messaging": [event], "standby": [event]}]}):
            _event_for(INBOX, item)


@st.composite
def page_events(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    page, psid = draw(ids), draw(ids)
    if psid == page:
        psid = page + "1"
    kind = draw(st.sampled_from(["text", "attachment", "quick_reply", "postback"]))
    mid = "m_" + draw(st.text(alphabet="abcdefXYZ0123456789-_", min_size=5, max_size=40))
    timestamp = draw(st.integers(min_value=1_500_000_000_000, max_value=2_000_000_000_000))
    # Any text but NUL (no platform delivers one; see the test of NULs below).
    text = draw(st.text(st.characters(exclude_characters="\x00"), min_size=1, max_size=300))
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


def test_a_text_of_nul_characters_alone_is_no_message_and_nuls_leave_a_text() -> None:
    """NUL cannot be stored (PostgreSQL text) and the event schema removes it: a message of NULs alone would be
    an empty message (hypothesis found one), so it is none; NULs inside a text are removed, the rest kept."""

    def normalized(text: str) -> list[Any]:
        event = {"sender": {"id": "2"}, "recipient": {"id": "1"}, "timestamp": 1_700_000_000_000}
        event["message"] = {"mid": "m_1", "text": text}
        return normalize({"object": "page", "entry": [{"id": "1", "time": 1, "messaging": [event]}]})

    assert normalized("\x00") == []
    [item] = normalized("hi\x00 there")
    event = _event_for(INBOX, item)
    assert isinstance(event, InboundMessageReceived) and event.payload.text == "hi there"


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
    # The standby message is kept, flagged: only an inbox that uses the handover protocol takes it.
    assert [(i.kind, i.mids, i.standby) for i in items] == [
        ("delivered", ["m_out_1"], False),
        ("read", [], False),
        ("message", [], True),
    ]
    assert items[1].watermark == datetime.fromtimestamp(1_700_000_001, UTC)
    receipt = _event_for(INBOX, items[0])
    assert isinstance(receipt, InboundReceiptReceived) and receipt.payload.status == "delivered"
    # Receipts under standby concern the owning app's sends: never ours.
    standby_receipt = {"id": page, "time": 3, "standby": [{**base, "read": {"watermark": 1_700_000_001_000}}]}
    assert normalize({"object": "page", "entry": [standby_receipt]}) == []


def test_handover_notifications_in_the_documented_shapes() -> None:
    page, user, ours, inbox_app = "111", "222", "1234567890", "263902037430900"
    base = {"sender": {"id": user}, "recipient": {"id": page}, "timestamp": 1_700_000_000_000}
    events = [
        {**base, "pass_thread_control": {"previous_owner_app_id": inbox_app, "new_owner_app_id": ours, "metadata": ""}},
        {**base, "take_thread_control": {"previous_owner_app_id": ours, "new_owner_app_id": inbox_app, "metadata": ""}},
        # Graph sends app ids as strings, sometimes as numbers; "idle mode" passes have no previous owner.
        {**base, "request_thread_control": {"requested_owner_app_id": 263902037430900, "metadata": "please"}},
        {**base, "pass_thread_control": {"previous_owner_app_id": None, "new_owner_app_id": ours}},
        {**base, "app_roles": {ours: ["primary_receiver"]}},
    ]
    body = {"object": "page", "entry": [{"id": page, "time": 1, "messaging": events[:3], "standby": events[3:]}]}
    items = normalize(body)
    assert [(i.kind, i.action, i.app_id, i.previous_app_id) for i in items] == [
        ("handover", "pass", ours, inbox_app),
        ("handover", "take", inbox_app, ours),
        ("handover", "request", inbox_app, None),
        ("handover", "pass", ours, None),
    ]
    assert len({i.mid for i in items}) == 4  # distinct ids: none is mistaken for a redelivery of another
    for item in items:
        event = _event_for(INBOX, item)
        assert isinstance(event, InboundHandoverReceived)
        assert event.payload.external_contact_id == f"{page}:{user}" and event.payload.action == item.action
        assert event == _event_for(INBOX, item)  # deterministic: a redelivery is the same event
        InboundHandoverReceived.model_validate_json(event.model_dump_json())


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
