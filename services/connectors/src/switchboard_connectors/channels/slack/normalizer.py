"""Slack Events API: request signing (v0) and normalization of event envelopes.

Pure functions, so property tests can throw arbitrary JSON at them: ``normalize`` never raises, it returns
what the envelope means for us (customer messages, edits, deletions, thread replies) and ignores the rest
(bots, our own posts, joins, unknown subtypes).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from switchboard_common.infra.signing import digests_equal

from switchboard_connectors.payload_fields import message_text

REPLAY_WINDOW_SECONDS = 300
# Message subtypes that carry a customer's words; every other subtype is not a customer event.
CONTENT_SUBTYPES = {None, "file_share", "thread_broadcast", "me_message"}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()


def verify(
    secret: str, timestamp: str | None, body: bytes, signature: str | None, now: float | None = None
) -> str | None:
    """None when valid, else the reason ("stale_timestamp" or "invalid_signature")."""
    # isascii() too: "²" passes isdigit() but int() refuses it.
    if not timestamp or not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return "stale_timestamp"
    if abs((now if now is not None else time.time()) - int(timestamp)) > REPLAY_WINDOW_SECONDS:
        return "stale_timestamp"
    if not digests_equal(sign(secret, timestamp, body), signature):
        return "invalid_signature"
    return None


@dataclass(frozen=True)
class SlackFile:
    id: str
    name: str
    mimetype: str | None
    size: int | None
    url_private: str | None


@dataclass(frozen=True)
class SlackAction:
    kind: Literal["message", "edit", "delete"]
    channel: str
    ts: str
    user: str
    text: str | None = None
    thread_ts: str | None = None
    channel_type: str | None = None
    files: tuple[SlackFile, ...] = field(default_factory=tuple)

    @property
    def external_id(self) -> str:
        return f"{self.channel}:{self.ts}"

    @property
    def is_thread_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _files(raw: Any) -> tuple[SlackFile, ...]:
    if not isinstance(raw, list):
        return ()
    files = []
    for item in raw[:20]:
        if isinstance(item, dict) and _str(item.get("id")):
            size = item.get("size")
            files.append(
                SlackFile(
                    id=item["id"],
                    name=_str(item.get("name")) or "file",
                    mimetype=_str(item.get("mimetype")),
                    size=size if isinstance(size, int) and not isinstance(size, bool) else None,
                    url_private=_str(item.get("url_private")),
                )
            )
    return tuple(files)


def _from_bot(message: dict[str, Any], bot_user_id: str | None) -> bool:
    """Our own posts and other bots' come back as events: never treat them as customers (no loops)."""
    if message.get("bot_id") or (message.get("app_id") and not message.get("user")):
        return True
    return bot_user_id is not None and message.get("user") == bot_user_id


def normalize(envelope: Any, *, installed_channel: str | None, bot_user_id: str | None) -> list[SlackAction]:
    """What a Slack ``event_callback`` means for us. Never raises."""
    if not isinstance(envelope, dict) or envelope.get("type") != "event_callback":
        return []
    event = envelope.get("event")
    if not isinstance(event, dict) or event.get("type") != "message":
        return []
    channel = _str(event.get("channel"))
    channel_type = _str(event.get("channel_type"))
    if channel is None:
        return []
    # Customers write in the installed channel or in a DM to the app; other channels are not ours.
    if channel != installed_channel and channel_type != "im":
        return []
    subtype = event.get("subtype")
    if subtype == "message_changed":
        new, old = event.get("message"), event.get("previous_message")
        if not isinstance(new, dict) or _from_bot(new, bot_user_id):
            return []
        ts = _str(new.get("ts"))
        user = _str(new.get("user")) or (_str(old.get("user")) if isinstance(old, dict) else None)
        if not ts or not user:
            return []
        return [
            SlackAction(
                "edit",
                channel,
                ts,
                user,
                text=message_text(new.get("text")),
                thread_ts=_str(new.get("thread_ts")),
                channel_type=channel_type,
            )
        ]
    if subtype == "message_deleted":
        old = event.get("previous_message")
        ts = _str(event.get("deleted_ts"))
        user = _str(old.get("user")) if isinstance(old, dict) else None
        if not ts or not user or (isinstance(old, dict) and _from_bot(old, bot_user_id)):
            return []
        return [SlackAction("delete", channel, ts, user, channel_type=channel_type)]
    if subtype not in CONTENT_SUBTYPES or _from_bot(event, bot_user_id):
        return []
    ts, user = _str(event.get("ts")), _str(event.get("user"))
    text, files = message_text(event.get("text")), _files(event.get("files"))
    if not ts or not user or (text is None and not files):
        return []
    return [
        SlackAction(
            "message",
            channel,
            ts,
            user,
            text=text,
            thread_ts=_str(event.get("thread_ts")),
            channel_type=channel_type,
            files=files,
        )
    ]
