"""Messenger webhook payloads: signature check and normalization (pure functions, no I/O).

:func:`normalize` turns any JSON value into a list of :class:`MessengerItem`; it never raises, and skips
what is not a customer message or a receipt (echoes of the page's own sends, ``standby`` events of an app
without thread control, reactions, opt-ins, handover notifications, anything malformed).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

SIGNATURE_PREFIX = "sha256="
MAX_TEXT = 20_000
ATTACHMENT_TYPES = {"image", "audio", "video", "file", "location", "fallback", "template", "sticker", "reel", "ig_reel"}
CONTENT_TYPES = {"image": "image/*", "audio": "audio/*", "video": "video/*", "file": "application/octet-stream"}


def verify_signature(app_secret: str, body: bytes, header: str | None) -> bool:
    """``X-Hub-Signature-256: sha256=<hex>`` over the raw body, compared in constant time."""
    if not app_secret or not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = SIGNATURE_PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.encode(errors="replace"))


@dataclass(frozen=True)
class MessengerAttachment:
    kind: str
    url: str | None
    name: str


@dataclass(frozen=True)
class MessengerItem:
    kind: Literal["message", "delivered", "read"]
    page_id: str
    psid: str
    sent_at: datetime
    mid: str | None = None
    text: str | None = None
    attachments: list[MessengerAttachment] = field(default_factory=list)
    # Receipts: the platform ids delivered, and the time up to which everything was delivered/read.
    mids: list[str] = field(default_factory=list)
    watermark: datetime | None = None


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
    return value[:MAX_TEXT] if isinstance(value, str) and value else None


def _mid(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 255 else None


def _attachments(raw: Any) -> list[MessengerAttachment]:
    found: list[MessengerAttachment] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or item.get("type") not in ATTACHMENT_TYPES:
            continue
        payload = item.get("payload") if isinstance(item.get("payload"), dict) else {}
        url = payload.get("url") if isinstance(payload.get("url"), str) else None
        if url is not None and not url.startswith(("https://", "http://")):
            url = None
        title = item.get("title") if isinstance(item.get("title"), str) else None
        found.append(MessengerAttachment(kind=str(item["type"]), url=url, name=(title or str(item["type"]))[:200]))
    return found


def _event(page_id: str, event: Any) -> MessengerItem | None:
    if not isinstance(event, dict):
        return None
    sender = event.get("sender") if isinstance(event.get("sender"), dict) else {}
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
        return MessengerItem("message", page_id, psid, sent_at, mid=mid, text=text, attachments=attachments)
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
    """Every customer message and receipt in a (batched) webhook body, in order. Never raises."""
    if not isinstance(body, dict) or body.get("object") != "page" or not isinstance(body.get("entry"), list):
        return []
    items: list[MessengerItem] = []
    for entry in body["entry"]:
        if not isinstance(entry, dict):
            continue
        page_id = _id(entry.get("id"))
        events = entry.get("messaging")
        # ``standby`` (events for an app without thread control) is deliberately not read: non-customer.
        if page_id is None or not isinstance(events, list):
            continue
        for event in events:
            item = _event(page_id, event)
            if item is not None:
                items.append(item)
    return items


def is_page_body(body: Any) -> bool:
    return isinstance(body, dict) and body.get("object") == "page" and isinstance(body.get("entry"), list)
