"""Messenger webhook payloads: signature check and normalization (pure functions, no I/O).

:func:`normalize` turns any JSON value into a list of :class:`MessengerItem`: customer messages, receipts and
handover-protocol notifications (``pass_thread_control``, ``take_thread_control``,
``request_thread_control``). It never raises, and skips echoes of the page's own sends, reactions, opt-ins,
``app_roles`` and anything malformed. Customer messages under ``standby`` (sent while another app holds the
thread) are returned flagged ``standby=True``: only an inbox that uses the handover protocol takes them.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from switchboard_common.domain.csat.surveys import parse_choice
from switchboard_common.infra.signing import digests_equal

from switchboard_connectors.payload_fields import message_text, object_field

SIGNATURE_PREFIX = "sha256="
MAX_TEXT = 20_000
ATTACHMENT_TYPES = {"image", "audio", "video", "file", "location", "fallback", "template", "sticker", "reel", "ig_reel"}
CONTENT_TYPES = {"image": "image/*", "audio": "audio/*", "video": "video/*", "file": "application/octet-stream"}


def verify_signature(app_secret: str, body: bytes, header: str | None) -> bool:
    """``X-Hub-Signature-256: sha256=<hex>`` over the raw body, compared in constant time."""
    if not app_secret or not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = SIGNATURE_PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return digests_equal(expected, header)


@dataclass(frozen=True)
class MessengerAttachment:
    kind: str
    url: str | None
    name: str


HandoverAction = Literal["pass", "take", "request"]
HANDOVER_ACTIONS: dict[str, HandoverAction] = {
    "pass_thread_control": "pass",
    "take_thread_control": "take",
    "request_thread_control": "request",
}


@dataclass(frozen=True)
class MessengerItem:
    kind: Literal["message", "delivered", "read", "handover"]
    page_id: str
    psid: str
    sent_at: datetime
    mid: str | None = None
    text: str | None = None
    attachments: list[MessengerAttachment] = field(default_factory=list)
    # Receipts: the platform ids delivered, and the time up to which everything was delivered/read.
    mids: list[str] = field(default_factory=list)
    watermark: datetime | None = None
    # A customer message that reached us under ``standby``: another app held the thread.
    standby: bool = False
    # Handover: "pass" / "take" (``app_id`` now holds the thread, ``previous_app_id`` held it) or "request"
    # (``app_id`` asks the thread's owner for it). ``mid`` is a synthetic id to deduplicate redeliveries.
    action: HandoverAction | None = None
    app_id: str | None = None
    previous_app_id: str | None = None
    # A satisfaction answer (a tapped quick reply of our survey): the conversation and the rating.
    csat: tuple[uuid.UUID, int] | None = None


def _id(value: Any) -> str | None:
    """Graph ids are numeric strings (sometimes numbers in JSON); anything else is malformed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return str(value)
    if isinstance(value, str) and 0 < len(value) <= 64 and value.isascii() and value.isdigit():
        return value
    return None


def _millis(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _text(value: Any) -> str | None:
    text = message_text(value)
    return text[:MAX_TEXT] if text else None


def _mid(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 255 else None


def _attachments(raw: Any) -> list[MessengerAttachment]:
    found: list[MessengerAttachment] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or item.get("type") not in ATTACHMENT_TYPES:
            continue
        payload = object_field(item, "payload")
        url = payload.get("url") if isinstance(payload.get("url"), str) else None
        if url is not None and not url.startswith(("https://", "http://")):
            url = None
        title = item.get("title") if isinstance(item.get("title"), str) else None
        found.append(MessengerAttachment(kind=str(item["type"]), url=url, name=(title or str(item["type"]))[:200]))
    return found


def _event(page_id: str, event: Any) -> MessengerItem | None:
    if not isinstance(event, dict):
        return None
    sender = object_field(event, "sender")
    psid = _id(sender.get("id"))
    sent_at = _millis(event.get("timestamp")) or datetime.now(UTC)
    if psid is None or psid == page_id:
        return None  # the page itself (echo with swapped ids) or malformed
    message = event.get("message")
    if isinstance(message, dict):
        if message.get("is_echo") or message.get("is_deleted"):
            return None  # the page's own sends echoed back are not customer messages
        mid = _mid(message.get("mid"))
        text = _text(message.get("text"))
        attachments = _attachments(message.get("attachments"))
        if mid is None or (text is None and not attachments):
            return None
        quick_reply = object_field(message, "quick_reply")
        csat = parse_choice(quick_reply.get("payload") if isinstance(quick_reply.get("payload"), str) else None)
        return MessengerItem("message", page_id, psid, sent_at, mid=mid, text=text, attachments=attachments, csat=csat)
    postback = event.get("postback")
    if isinstance(postback, dict):
        # Button taps and Get Started: the button's title is what the customer "said".
        text = _text(postback.get("title")) or _text(postback.get("payload"))
        mid = _mid(postback.get("mid"))
        if mid is None:
            timestamp = event.get("timestamp")
            mid = f"postback:{psid}:{timestamp}" if isinstance(timestamp, int) else None
        if mid is None or text is None:
            return None
        return MessengerItem("message", page_id, psid, sent_at, mid=mid, text=text)
    for key, action in HANDOVER_ACTIONS.items():
        control = event.get(key)
        if isinstance(control, dict):
            owner = "requested_owner_app_id" if action == "request" else "new_owner_app_id"
            app_id = _id(control.get(owner))
            previous = _id(control.get("previous_owner_app_id"))
            timestamp = event.get("timestamp")
            stamp = timestamp if isinstance(timestamp, int) and not isinstance(timestamp, bool) else 0
            return MessengerItem(
                "handover",
                page_id,
                psid,
                sent_at,
                mid=f"handover:{action}:{psid}:{stamp}:{app_id or ''}:{previous or ''}",
                action=action,
                app_id=app_id,
                previous_app_id=previous,
            )
    for kind in ("delivery", "read"):
        receipt = event.get(kind)
        if isinstance(receipt, dict):
            mids = [m for m in receipt.get("mids") or [] if _mid(m)] if isinstance(receipt.get("mids"), list) else []
            watermark = _millis(receipt.get("watermark"))
            if watermark is None and not mids:
                return None
            status: Literal["delivered", "read"] = "delivered" if kind == "delivery" else "read"
            return MessengerItem(status, page_id, psid, sent_at, mids=mids[:100], watermark=watermark)
    return None


def normalize(body: Any) -> list[MessengerItem]:
    """Every customer message, receipt and handover notification in a (batched) webhook body, in order.

    Never raises. From ``standby`` (events an app without thread control listens to) only customer messages
    (flagged) and handover notifications are kept: receipts there concern the owning app's sends.
    """
    if not isinstance(body, dict) or body.get("object") != "page" or not isinstance(body.get("entry"), list):
        return []
    items: list[MessengerItem] = []
    for entry in body["entry"]:
        if not isinstance(entry, dict):
            continue
        page_id = _id(entry.get("id"))
        if page_id is None:
            continue
        for key in ("messaging", "standby"):
            events = entry.get(key)
            if not isinstance(events, list):
                continue
            for event in events:
                item = _event(page_id, event)
                if item is None:
                    continue
                if key == "standby":
                    if item.kind in ("delivered", "read"):
                        continue
                    if item.kind == "message":
                        item = replace(item, standby=True)
                items.append(item)
    return items


def is_page_body(body: Any) -> bool:
    return isinstance(body, dict) and body.get("object") == "page" and isinstance(body.get("entry"), list)
