"""Signed requests to the API channel's inbound webhook, built as an integrator's back end would build them.

The bench uses ``signed_messages`` for webhook ingest throughput; integrators can read it as a reference:
one ``POST /webhooks/api/{inbox_id}`` is a JSON body plus ``X-Switchboard-Timestamp`` and
``X-Switchboard-Signature`` computed over ``"{timestamp}.{raw body}"`` with the inbox secret.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from switchboard_common.infra.signing import signed_headers


@dataclass(frozen=True)
class SignedRequest:
    url: str
    body: bytes
    headers: dict[str, str]


def signed_message(
    base_url: str,
    inbox_id: str | uuid.UUID,
    secret: str,
    *,
    external_contact_id: str,
    message_id: str,
    text: str,
    contact_name: str | None = None,
    now: float | None = None,
) -> SignedRequest:
    """One signed inbound message; ``now`` (unix seconds) defaults to the current time."""
    contact: dict[str, Any] = {"external_id": external_contact_id}
    if contact_name is not None:
        contact["name"] = contact_name
    body = json.dumps({"contact": contact, "message": {"id": message_id, "text": text}}).encode()
    return SignedRequest(f"{base_url.rstrip('/')}/webhooks/api/{inbox_id}", body, signed_headers(secret, body, now))


def signed_messages(
    base_url: str, inbox_id: str | uuid.UUID, secret: str, *, contacts: int = 50, text: str = "bench message"
) -> Iterator[SignedRequest]:
    """An endless stream of distinct messages (each accepted, none a duplicate) from ``contacts`` customers.

    Each request is signed when it is drawn, so a long open-loop run stays inside the five-minute window.
    """
    run = uuid.uuid4().hex[:8]
    n = 0
    while True:
        yield signed_message(
            base_url,
            inbox_id,
            secret,
            external_contact_id=f"bench-{run}-{n % contacts}",
            message_id=f"bench-{run}-{n}",
            text=text,
        )
        n += 1
