"""libs/common pieces that need no server: crypto, tokens, settings, log scrubbing."""

from __future__ import annotations

import io
import json
import os
import uuid

import pytest
import structlog
from switchboard_common.infra import tokens
from switchboard_common.infra.crypto import DecryptionError, Keyring
from switchboard_common.infra.logging import configure_logging, truncate_ip
from switchboard_common.infra.settings import CommonSettings


def test_keyring_rotation_keeps_old_values_readable() -> None:
    old = Keyring([("k1", os.urandom(32))])
    blob = old.encrypt(b"xoxb-secret", b"inbox:1")
    rotated = Keyring([("k2", os.urandom(32)), ("k1", old._keys["k1"])])
    assert rotated.decrypt(blob, b"inbox:1") == b"xoxb-secret"
    assert rotated.needs_rotation(blob)
    assert not rotated.needs_rotation(rotated.encrypt(b"x"))
    with pytest.raises(DecryptionError):
        rotated.decrypt(blob, b"inbox:2")  # bound to its row
    with pytest.raises(DecryptionError):
        Keyring([("k2", os.urandom(32))]).decrypt(blob, b"inbox:1")


def test_tokens_round_trip_and_reject_tampering() -> None:
    subject, account = uuid.uuid4(), uuid.uuid4()
    token = tokens.issue("s" * 40, kind="agent", subject=subject, account_id=account, ttl_seconds=60, role="admin")
    claims = tokens.decode("s" * 40, token)
    assert (claims.subject, claims.account_id, claims.role, claims.kind) == (subject, account, "admin", "agent")
    with pytest.raises(tokens.InvalidToken):
        tokens.decode("t" * 40, token)
    expired = tokens.issue("s" * 40, kind="agent", subject=subject, account_id=account, ttl_seconds=-1)
    with pytest.raises(tokens.InvalidToken):
        tokens.decode("s" * 40, expired)


def test_a_verified_token_is_not_verified_again_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    subject, account = uuid.uuid4(), uuid.uuid4()
    token = tokens.issue("s" * 40, kind="visitor", subject=subject, account_id=account, ttl_seconds=60)
    verified = []
    real = tokens.jwt.decode

    def counted(*args: object, **kwargs: object) -> object:
        verified.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]  # PyJWT's own signature

    monkeypatch.setattr(tokens.jwt, "decode", counted)
    first = tokens.decode("s" * 40, token)
    assert tokens.decode("s" * 40, token) == first
    assert len(verified) == 1, "the second request paid the verification again"
    with pytest.raises(tokens.InvalidToken):  # another secret is another key: verified, and refused
        tokens.decode("t" * 40, token)
    # Past its expiry a known token is refused as PyJWT would refuse it.
    monkeypatch.setattr(tokens.time, "time", lambda: first.expires_at + 1.0)
    with pytest.raises(tokens.InvalidToken):
        tokens.decode("s" * 40, token)


def test_production_refuses_default_secrets() -> None:
    with pytest.raises(ValueError, match="SECRET_KEY"):
        CommonSettings(environment="production")
    with pytest.raises(ValueError, match="ENCRYPTION_KEYS"):
        CommonSettings(environment="production", secret_key="x" * 40)


def test_logs_never_carry_personal_data() -> None:
    buffer = io.StringIO()
    configure_logging("INFO", json_output=True, service="test", stream=buffer)
    structlog.get_logger("t").info(
        "something",
        text="call me at +36 30 123 4567",
        email="a@b.example.com",
        detail="from 203.0.113.9 token xoxb-123-abc",
        event_id="e1",
    )
    line = json.loads(buffer.getvalue().strip().splitlines()[-1])
    rendered = json.dumps(line)
    for secret in ("123 4567", "a@b.example.com", "203.0.113.9", "xoxb-123-abc"):
        assert secret not in rendered
    assert line["event_id"] == "e1"
    configure_logging("WARNING", json_output=False, service="test")


def test_ip_truncation() -> None:
    assert truncate_ip("203.0.113.77") == "203.0.113.0/24"
    assert truncate_ip("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert truncate_ip("not an ip") is None
