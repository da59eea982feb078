"""Schemathesis hooks for tests/fuzzing.py: API-channel messages are signed with the inbox secret, as a real
back end signs them, so the fuzzer reaches their validation instead of stopping at the signature."""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis
from switchboard_common.infra import signing

API_CHANNEL_PATH = "/webhooks/api/{inbox_id}"


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
    secret = os.environ.get("SWITCHBOARD_FUZZ_API_SECRET")
    if not secret or case.operation.path != API_CHANNEL_PATH:
        return
    headers = case.headers or {}
    if signing.TIMESTAMP_HEADER not in headers or signing.SIGNATURE_HEADER not in headers:
        return  # a case testing a missing header stays without it
    if isinstance(case.body, bytes | bytearray):
        body = bytes(case.body)
    else:
        try:
            body = json.dumps(case.body).encode()
        except (TypeError, ValueError):
            return
    # Sent as these exact bytes: the signature covers the raw body.
    kwargs["data"] = body
    signed = signing.signed_headers(secret, body)
    case.headers = {**headers, **signed}
