"""Property tests of the Slack normalizer: arbitrary JSON never crashes it; well-formed messages map to events."""

from __future__ import annotations

import json
import time
import uuid

from hypothesis import given
from hypothesis import strategies as st
from switchboard_common.domain.events import parse_event, serialize_event
from switchboard_connectors.channels.slack import normalizer, webhook
from switchboard_connectors.ingress import InboxRecord

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=25,
)


@given(JSON)
def test_arbitrary_json_never_crashes(payload: object) -> None:
    assert isinstance(normalizer.normalize(payload, installed_channel="C1", bot_user_id="UBOT"), list)


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "type",
                "event",
                "team_id",
                "subtype",
                "channel",
                "user",
                "ts",
                "text",
                "message",
                "previous_message",
                "files",
                "bot_id",
                "channel_type",
            ]
        ),
        JSON,
    )
)
def test_envelope_shaped_noise_never_crashes(event: dict[str, object]) -> None:
    envelope = {"type": "event_callback", "event": {"type": "message", **event}}
    normalizer.normalize(envelope, installed_channel="C1", bot_user_id="UBOT")


# What a customer can send: any text but NUL (no platform delivers one; see the test of NULs below).
WORDS = st.text(st.characters(exclude_characters="\x00"), min_size=1, max_size=200)


@given(
    user=st.from_regex(r"U[A-Z0-9]{4,10}", fullmatch=True),
    text=WORDS,
    ts=st.from_regex(r"1[0-9]{9}\.[0-9]{6}", fullmatch=True),
)
def test_well_formed_messages_map_to_one_customer_message(user: str, text: str, ts: str) -> None:
    envelope = {
        "type": "event_callback",
        "team_id": "T1",
        "event": {"type": "message", "channel": "C1", "user": user, "text": text, "ts": ts},
    }
    [action] = normalizer.normalize(envelope, installed_channel="C1", bot_user_id="UBOT")
    assert (action.kind, action.user, action.text, action.external_id) == ("message", user, text, f"C1:{ts}")


def test_signature_matches_slacks_own() -> None:
    from slack_sdk.signature import SignatureVerifier

    body = json.dumps({"type": "event_callback"}).encode()
    ts = str(int(time.time()))
    expected = SignatureVerifier("secret").generate_signature(timestamp=ts, body=body)
    assert normalizer.verify("secret", ts, body, expected) is None
    assert normalizer.verify("secret", ts, body + b"x", expected) == "invalid_signature"
    assert normalizer.verify("secret", str(int(time.time()) - 400), body, expected) == "stale_timestamp"


TS = st.from_regex(r"1[0-9]{9}\.[0-9]{6}", fullmatch=True)
USER = st.from_regex(r"U[A-Z0-9]{4,10}", fullmatch=True)
INBOX = InboxRecord(
    id=uuid.uuid4(), account_id=uuid.uuid4(), channel="slack", name="Slack", settings={"channel_id": "C1"}, secrets={}
)


@given(
    user=USER,
    ts=TS,
    thread=st.none() | TS,
    text=st.text(min_size=1, max_size=100),
    kind=st.sampled_from(["message", "edit", "delete"]),
    channel_type=st.sampled_from(["channel", "im"]),
    files=st.lists(
        st.fixed_dictionaries(
            {
                "id": st.from_regex(r"F[A-Z0-9]{4,10}", fullmatch=True),
                "name": st.text(min_size=1, max_size=30),
                "mimetype": st.sampled_from(["image/png", "application/pdf"]),
                "size": st.integers(min_value=0, max_value=10**9),
                "url_private": st.just("https://files.slack.com/files-pri/T1-F1/x.png"),
            }
        ),
        max_size=3,
    ),
)
def test_well_formed_payloads_map_to_valid_events(
    user: str,
    ts: str,
    thread: str | None,
    text: str,
    kind: str,
    channel_type: str,
    files: list[dict[str, object]],
) -> None:
    channel = "C1" if channel_type == "channel" else "D1"
    message: dict[str, object] = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts}
    if thread:
        message["thread_ts"] = thread
    if kind == "message":
        event: dict[str, object] = {**message, "channel_type": channel_type}
        if files:
            event.update(subtype="file_share", files=files)
    elif kind == "edit":
        event = {
            "type": "message",
            "subtype": "message_changed",
            "channel": channel,
            "channel_type": channel_type,
            "message": {**message, "text": text + "!"},
            "previous_message": message,
        }
    else:
        event = {
            "type": "message",
            "subtype": "message_deleted",
            "channel": channel,
            "channel_type": channel_type,
            "deleted_ts": ts,
            "previous_message": message,
        }
    envelope = {"type": "event_callback", "team_id": "T1", "event_id": "Ev1", "event": event}
    [action] = normalizer.normalize(envelope, installed_channel="C1", bot_user_id="UBOT")
    assert (action.kind, action.user, action.external_id) == (kind, user, f"{channel}:{ts}")
    published = webhook.customer_event(INBOX, "T1", action)
    # What goes on Kafka parses back as the same valid event.
    assert parse_event(serialize_event(published)) == published
    assert published.payload.external_contact_id == f"T1:{user}"
    assert len(published.payload.attachments) == (len(files) if kind == "message" else 0)


@given(user=USER, ts=TS, text=st.text(min_size=1, max_size=50))
def test_bots_our_own_posts_and_other_channels_are_ignored(user: str, ts: str, text: str) -> None:
    base = {"type": "message", "channel": "C1", "user": user, "text": text, "ts": ts}
    for event in (
        {**base, "user": "UBOT"},
        {**base, "bot_id": "B1"},
        {**base, "subtype": "bot_message"},
        {**base, "subtype": "channel_join"},
        {**base, "subtype": "some_future_subtype"},
        {**base, "channel": "C2"},
    ):
        envelope = {"type": "event_callback", "team_id": "T1", "event": event}
        assert normalizer.normalize(envelope, installed_channel="C1", bot_user_id="UBOT") == []


def test_a_text_of_nul_characters_alone_is_no_message_and_nuls_leave_a_text() -> None:
    """NUL cannot be stored (PostgreSQL text) and the event schema removes it: a message of NULs alone would be
    an empty message, so it is none; NULs inside a text are removed, the rest kept."""

    def normalized(text: str) -> list[normalizer.SlackAction]:
        event = {"type": "message", "channel": "C1", "user": "U1234", "text": text, "ts": "1700000000.000100"}
        envelope = {"type": "event_callback", "team_id": "T1", "event": event}
        return normalizer.normalize(envelope, installed_channel="C1", bot_user_id="UBOT")

    assert normalized("\x00\x00") == []
    [action] = normalized("hi\x00 there")
    assert action.text == "hi there"


def test_timestamps_must_be_ascii_digits() -> None:
    body = b"{}"
    assert normalizer.verify("s", "\u00b2" * 3, body, "v0=00") == "stale_timestamp"
    assert normalizer.verify("s", None, body, "v0=00") == "stale_timestamp"
    assert normalizer.verify("s", str(int(time.time())), body, None) == "invalid_signature"
