"""Server URLs in the forms hosting providers and libpq give, and one clear line for anything else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from switchboard_common.infra.settings import (
    CommonSettings,
    ConfigurationError,
    normalize_database_url,
    normalize_redis_url,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:pw@db.example:5432/app", "postgresql+asyncpg://u:pw@db.example:5432/app"),
        ("postgresql://u@db.example/app", "postgresql+asyncpg://u@db.example/app"),
        ("postgresql+asyncpg://u@db.example/app", "postgresql+asyncpg://u@db.example/app"),
        ("postgresql://u@db.example/app?sslmode=require", "postgresql+asyncpg://u@db.example/app?ssl=require"),
        ("postgres://u@h/app?sslmode=verify-full", "postgresql+asyncpg://u@h/app?ssl=verify-full"),
    ],
)
def test_database_url_forms(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected
    assert CommonSettings(database_url=given).database_url == expected


@pytest.mark.parametrize(
    "given",
    ["mysql://u:secret-pw@h/app", "h:5432/app", "postgresql://u@h/app?sslmode=sometimes", "postgres:///app"],
)
def test_other_database_urls_are_refused_without_echoing_them(given: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        normalize_database_url(given)
    assert "DATABASE_URL" in str(refused.value)
    assert "secret-pw" not in str(refused.value)


def test_redis_url_forms() -> None:
    assert normalize_redis_url("redis://h:6379/0") == "redis://h:6379/0"
    assert normalize_redis_url("rediss://:pw@h:6380/1") == "rediss://:pw@h:6380/1"
    with pytest.raises(ConfigurationError, match="REDIS_URL"):
        normalize_redis_url("memcached://h:11211")


def test_relative_data_dir_becomes_absolute() -> None:
    assert CommonSettings(data_dir=".switchboard").data_dir.is_absolute()


def test_a_service_refuses_a_bad_url_in_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "switchboard_router"],
        env={"DATABASE_URL": "mysql://u:secret-pw@h/app", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "switchboard: configuration error: DATABASE_URL must start with postgres://, postgresql:// or "
        "postgresql+asyncpg:// (got mysql://)"
    ]


def test_make_run_hands_given_servers_on_in_the_form_services_read(tmp_path: Path) -> None:
    from switchboard_devstack.servers import LocalStack

    stack = LocalStack(
        tmp_path,
        env={"DATABASE_URL": "postgresql://u@db.example:5432/app?sslmode=require", "REDIS_URL": "redis://r:6379/0"},
    )
    assert stack.urls().database_url == "postgresql+asyncpg://u@db.example:5432/app?ssl=require"
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        LocalStack(tmp_path, env={"DATABASE_URL": "sqlite:///x.db"})


def test_a_pseudonym_key_must_be_32_random_bytes_and_defaults_to_one_derived_from_the_secret_key() -> None:
    import base64

    from pydantic import ValidationError
    from switchboard_common.infra.pseudonyms import pseudonym_key

    for bad in ("not base64!", base64.b64encode(b"short").decode()):
        with pytest.raises(ValidationError) as refused:
            CommonSettings(pseudonym_key=bad)
        # (what load_settings prints: the errors without their input)
        message = str(refused.value.errors(include_input=False, include_url=False))
        assert "PSEUDONYM_KEY" in message and bad not in message
    good = base64.b64encode(b"k" * 32).decode()
    assert pseudonym_key(CommonSettings(pseudonym_key=good)) == b"k" * 32
    derived = pseudonym_key(CommonSettings(secret_key="a" * 40))
    assert len(derived) == 32 and derived != pseudonym_key(CommonSettings(secret_key="b" * 40))


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"kafka_security_protocol": "SASL_SSL"}, "KAFKA_SASL_USERNAME"),
        (
            {
                "kafka_security_protocol": "SASL_PLAINTEXT",
                "kafka_sasl_mechanism": "PLAIN",
                "kafka_sasl_username": "u",
                "kafka_sasl_password": "p",
            },
            "in clear",
        ),
        ({"kafka_ssl_cafile": "/ca.crt"}, "has no TLS"),
        ({"kafka_security_protocol": "SSL", "kafka_ssl_certfile": "/c.pem"}, "KAFKA_SSL_KEYFILE"),
    ],
)
def test_kafka_transport_security_that_cannot_work_is_refused(given: dict[str, str], named: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=named):
        CommonSettings(**given)  # type: ignore[arg-type]


def test_kafka_clients_get_tls_and_scram_from_the_settings() -> None:
    from switchboard_common.infra.bus import kafka_connection

    plain = kafka_connection(CommonSettings())
    assert plain["security_protocol"] == "PLAINTEXT" and "sasl_mechanism" not in plain
    secured = kafka_connection(
        CommonSettings(
            kafka_security_protocol="SASL_SSL", kafka_sasl_username="switchboard", kafka_sasl_password="s3cret"
        )
    )
    assert secured["security_protocol"] == "SASL_SSL" and secured["ssl_context"] is not None
    assert (secured["sasl_mechanism"], secured["sasl_plain_username"]) == ("SCRAM-SHA-512", "switchboard")
    assert secured["sasl_plain_password"] == "s3cret"


def test_every_kafka_client_takes_the_transport_security_of_the_settings() -> None:
    """Clients built with only the bootstrap servers would connect without TLS or SASL: ours go through
    switchboard_common.infra.bus.kafka_connection."""
    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for folder in ("libs/common/src", "services")
        for path in (root / folder).rglob("*.py")
        if "bootstrap_servers=" in path.read_text(encoding="utf-8") and path.name != "bus.py"
    ]
    assert offenders == []
