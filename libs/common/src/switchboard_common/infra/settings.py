"""Settings read from the environment, validated once.

Every service extends :class:`CommonSettings`. Unsafe defaults (the development secret key) are refused
outside development and test, as the FastAPI full-stack template does.
"""

from __future__ import annotations

import base64
import re
from functools import cached_property
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "switchboard-development-secret-change-me"  # noqa: S105 - refused outside development

Environment = Literal["development", "test", "production"]


REGION_NAME = re.compile(r"^[a-z][a-z0-9-]{1,19}$")


class ConfigurationError(ValueError):
    """A setting that cannot work; its message is one line that names the variable."""


_POSTGRES_SCHEMES = ("postgres", "postgresql", "postgresql+asyncpg")
_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# Query parameters asyncpg takes as they are; libpq's ``sslmode`` is translated to asyncpg's ``ssl``.
_ASYNCPG_PARAMETERS = ("ssl", "target_session_attrs", "prepared_statement_cache_size")


def normalize_database_url(value: str, variable: str = "DATABASE_URL") -> str:
    """The libpq forms users are given (``postgres://``, ``postgresql://``, ``?sslmode=``) as the
    ``postgresql+asyncpg://`` URL SQLAlchemy's asyncpg dialect reads. Errors never repeat the URL: it may
    hold a password."""
    parts = urlsplit(value.strip())
    if parts.scheme not in _POSTGRES_SCHEMES:
        raise ConfigurationError(
            f"{variable} must start with postgres://, postgresql:// or postgresql+asyncpg:// "
            f"(got {parts.scheme + '://' if parts.scheme else 'no scheme'})"
        )
    if not parts.hostname:
        raise ConfigurationError(f"{variable} names no host (expected postgresql://user:password@host:port/db)")
    query: list[tuple[str, str]] = []
    for name, item in parse_qsl(parts.query, keep_blank_values=True):
        if name == "sslmode":
            if item not in _SSL_MODES:
                raise ConfigurationError(f"{variable}: sslmode must be one of {', '.join(_SSL_MODES)}")
            query.append(("ssl", item))
        elif name in _ASYNCPG_PARAMETERS:
            query.append((name, item))
        else:
            raise ConfigurationError(
                f"{variable}: parameter {name!r} is not supported "
                f"(supported: sslmode, {', '.join(_ASYNCPG_PARAMETERS)})"
            )
    return urlunsplit(("postgresql+asyncpg", parts.netloc, parts.path, urlencode(query), ""))


def normalize_redis_url(value: str, variable: str = "REDIS_URL") -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("redis", "rediss"):
        raise ConfigurationError(
            f"{variable} must start with redis:// or rediss:// "
            f"(got {parts.scheme + '://' if parts.scheme else 'no scheme'})"
        )
    if not parts.hostname:
        raise ConfigurationError(f"{variable} names no host (expected redis://host:port/db)")
    return value.strip()


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    environment: Environment = "development"
    service_name: str = "switchboard"

    # Regions (cells; docs/operations.md, "Regions"): every region of the installation, comma separated, the
    # first the default, and the region this process serves (default: the first). Unset: one region, as ever.
    regions: str = ""
    region: str = ""
    # Where each region's services are reached, to forward requests that reached the wrong region:
    # "eu=https://eu.example.com,us=https://us.example.com".
    region_urls: str = ""
    # The global directory (what must be found before the region is known -> region) and its shared token.
    directory_url: str = ""
    directory_token: SecretStr | None = None
    # Where the directory process (python -m switchboard_ops directory) keeps its entries; empty:
    # DATA_DIR/directory.
    directory_data_dir: str = ""

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/switchboard"
    redis_url: str = "redis://127.0.0.1:6379/0"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Prefix of every topic and consumer group: lets tests and several deployments share one broker.
    kafka_namespace: str = "switchboard"
    kafka_topic_partitions: int = 12
    kafka_enable_idempotence: bool = False
    # How services reach the brokers. Production: SASL_SSL with SCRAM (deploy/k8s/overlays/prod declares a Strimzi
    # KafkaUser with ACLs on the installation's topics and groups): without it anyone who reaches a broker can
    # read sealed traffic's metadata and forge events for any tenant.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr | None = None
    # The brokers' CA (PEM; the system store when empty) and, for mutual TLS, the client certificate and key.
    kafka_ssl_cafile: str = ""
    kafka_ssl_certfile: str = ""
    kafka_ssl_keyfile: str = ""
    # How long the broker may hold a fetch waiting for data (ms). Kafka answers as soon as data arrives, so
    # production sets 500 (deploy/k8s) to keep idle consumers quiet; the local tansu broker looks again after
    # sleeping half the remaining wait (about the whole of it below 250 ms), so here it bounds each consumer
    # hop's idle latency (about half the wait) against the idle fetches per second (1000 / wait).
    kafka_fetch_max_wait_ms: int = 40
    # The same for background consumers (Slack copies and downloads, webhook fan-out, receipts).
    kafka_background_fetch_max_wait_ms: int = 250
    # Background consumers take a poll's records at most this often (ms): under load they fetch a few times a
    # second with larger batches instead of once per record, which costs every broker (tansu lists a
    # partition's log on each fetch that finds new records there).
    kafka_background_poll_interval_ms: int = 250
    # Redis key prefix, for the same reason.
    redis_namespace: str = "sb"

    # The platforms' APIs: the connectors send through them, the gateway proves channel ownership with them
    # (a page token must belong to its page, a bot token to its workspace), the privacy service erases copies.
    slack_api_url: str = "https://slack.com/api"
    graph_api_url: str = "https://graph.facebook.com/v21.0"
    # Dialogflow's API (a regional endpoint, e.g. https://europe-west1-dialogflow.googleapis.com, keeps bot
    # turns in that Google Cloud region; the sub-processor list says which).
    dialogflow_api_url: str = "https://dialogflow.googleapis.com"

    secret_key: str = DEV_SECRET_KEY
    # Key of the keyed pseudonyms (switchboard_common.infra.pseudonyms): base64 of 32 random bytes. Unset, it is derived
    # from SECRET_KEY; set it to keep pseudonyms (Kafka keys, identity key references, spam statistics) stable
    # across a SECRET_KEY rotation (docs/privacy.md).
    pseudonym_key: SecretStr | None = None
    # Comma separated "key_id:base64(32 bytes)" pairs; the first one encrypts, all of them decrypt.
    encryption_keys: str = ""
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    visitor_token_ttl_seconds: int = 30 * 24 * 3600

    data_dir: Path = Path(".switchboard")
    # Attachment storage (switchboard_common.infra.attachments): "local" (DATA_DIR/attachments) or "s3" (any
    # S3-compatible bucket). S3 credentials fall back to botocore's chain (env, web identity, instance role).
    attachments_backend: Literal["local", "s3"] = "local"
    s3_endpoint_url: str | None = None
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_key_prefix: str = ""
    s3_addressing_style: Literal["auto", "virtual", "path"] = "auto"
    # Prometheus metrics on a port of their own (production: 9090, which neither the Service nor the Ingress
    # exposes); unset, /metrics is served on the app's port (make run), which the Ingress does not route either.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    log_level: str = "INFO"
    log_json: bool = True
    max_body_bytes: int = 1_000_000
    # Proxies whose X-Forwarded-For is believed (comma separated CIDRs); empty trusts none.
    trusted_proxies: str = ""

    db_pool_size: int = Field(default=10, ge=1)
    # How long a request waits for a free database or Redis connection (and for a Redis connect) before it is
    # refused with 503 overloaded and Retry-After: a saturated pool answers fast instead of queueing for 30 s.
    pool_timeout_seconds: float = Field(default=2.0, gt=0)
    # How long a process may keep a subject's event key in memory; erasure waits this long before it reports
    # Kafka shredded (switchboard_common.domain.encryption.shredding).
    subject_key_cache_seconds: float = Field(default=30.0, ge=0)

    # Outgoing calls to user-given URLs (API inbox callbacks, account webhooks).
    outbound_allow_private: bool = False
    webhook_timeout_seconds: float = 10.0
    webhook_retry_base_seconds: float = 2.0
    webhook_retry_max_seconds: float = 300.0
    webhook_max_attempts: int = Field(default=12, ge=1)
    # Deliveries that finally failed in a row before a subscription is disabled and its owner told.
    webhook_disable_after_failures: int = Field(default=5, ge=1)
    # Finished deliveries stay in the delivery log this long (their payload is dropped when they finish).
    webhook_delivery_log_days: int = Field(default=30, ge=1)

    # Backups (python -m switchboard_ops backup) expire after this many days; erasure certificates and account
    # purges state when the last backup copy of the data expires.
    backup_retention_days: int = Field(default=30, ge=1, le=3650)
    # Where backups go (`switchboard_ops backup`'s default --target; the sub-processor list names its provider).
    backup_target: str = ""
    # Where the erasure ledger lives (keyed hashes of erased subjects and destroyed key ids, replayed on
    # restore): a directory or s3://bucket/prefix, never inside the backups. Empty: DATA_DIR/erasure-ledger.
    erasure_ledger_url: str = ""

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        return normalize_redis_url(value)

    @field_validator("pseudonym_key")
    @classmethod
    def _pseudonym_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        try:
            key = base64.b64decode(value.get_secret_value(), validate=True)
        except ValueError:
            key = b""
        if len(key) < 32:
            raise ConfigurationError("PSEUDONYM_KEY must be base64 of at least 32 random bytes")
        return value

    @field_validator("data_dir")
    @classmethod
    def _data_dir(cls, value: Path) -> Path:
        # Absolute once, so a later change of working directory cannot move the data.
        return value.absolute()

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: str) -> str:
        names = [n.strip().lower() for n in value.split(",") if n.strip()]
        for name in names:
            if not REGION_NAME.match(name):
                raise ConfigurationError(f"REGIONS: {name!r} is not a region name (a-z, 0-9 and -, 2 to 20 long)")
        if len(set(names)) != len(names):
            raise ConfigurationError("REGIONS names a region twice")
        return ",".join(names)

    @field_validator("erasure_ledger_url")
    @classmethod
    def _erasure_ledger_url(cls, value: str) -> str:
        value = value.strip()
        if value.startswith("s3://") and not urlsplit(value).hostname:
            raise ConfigurationError("ERASURE_LEDGER_URL must name a bucket (s3://bucket/prefix)")
        return value

    @model_validator(mode="after")
    def _region_fits(self) -> CommonSettings:
        names = self.region_names
        if self.region and names and self.region not in names:
            raise ConfigurationError(f"REGION {self.region!r} is not one of REGIONS ({', '.join(names)})")
        if names and not self.region:
            object.__setattr__(self, "region", names[0])
        for name in self.region_url_map:
            if name not in names:
                raise ConfigurationError(f"REGION_URLS names {name!r}, which is not one of REGIONS")
        return self

    @model_validator(mode="after")
    def _kafka_security_fits(self) -> CommonSettings:
        protocol = self.kafka_security_protocol
        if protocol.startswith("SASL_"):
            if not self.kafka_sasl_username or self.kafka_sasl_password is None:
                raise ConfigurationError(
                    f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
                )
            if protocol == "SASL_PLAINTEXT" and self.kafka_sasl_mechanism == "PLAIN":
                raise ConfigurationError(
                    "KAFKA_SASL_MECHANISM=PLAIN sends the password in clear: use SASL_SSL or SCRAM"
                )
        if not protocol.endswith("SSL") and (self.kafka_ssl_cafile or self.kafka_ssl_certfile):
            raise ConfigurationError(f"KAFKA_SSL_* files are set but KAFKA_SECURITY_PROTOCOL={protocol} has no TLS")
        if bool(self.kafka_ssl_certfile) != bool(self.kafka_ssl_keyfile):
            raise ConfigurationError("KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE go together (mutual TLS)")
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> CommonSettings:
        if self.attachments_backend == "s3" and not self.s3_bucket:
            raise ValueError("ATTACHMENTS_BACKEND=s3 needs S3_BUCKET")
        if self.environment == "production":
            if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
                raise ValueError("SECRET_KEY must be set to a random value of at least 32 characters")
            if not self.encryption_keys:
                raise ValueError("ENCRYPTION_KEYS must be set in production")
            if self.multi_region:
                token = self.directory_token.get_secret_value() if self.directory_token else ""
                if len(token) < 32:
                    raise ValueError("DIRECTORY_TOKEN must be set to a random value of at least 32 characters")
                if not self.directory_url:
                    raise ValueError("DIRECTORY_URL must be set when REGIONS names more than one region")
        return self

    @cached_property
    def encryption_keyring(self) -> list[tuple[str, bytes]]:
        """Keys for secrets at rest, newest first. Development derives one from the secret key."""
        if not self.encryption_keys:
            import hashlib

            return [("dev", hashlib.sha256(self.secret_key.encode()).digest())]
        ring: list[tuple[str, bytes]] = []
        for item in self.encryption_keys.split(","):
            key_id, _, material = item.strip().partition(":")
            key = base64.b64decode(material)
            if len(key) != 32:
                raise ValueError(f"encryption key {key_id!r} must be 32 bytes")
            ring.append((key_id, key))
        return ring

    @cached_property
    def pseudonym_key_bytes(self) -> bytes:
        assert self.pseudonym_key is not None
        return base64.b64decode(self.pseudonym_key.get_secret_value())

    @property
    def region_names(self) -> list[str]:
        """Every region, the default first; empty for a single-region installation."""
        return [n for n in self.regions.split(",") if n]

    @property
    def multi_region(self) -> bool:
        return len(self.region_names) > 1

    @cached_property
    def region_url_map(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for item in self.region_urls.split(","):
            name, sep, url = item.strip().partition("=")
            if not sep:
                continue
            if not url.strip().startswith(("http://", "https://")):
                raise ConfigurationError(f"REGION_URLS: the URL of {name.strip()!r} must start with http(s)://")
            found[name.strip().lower()] = url.strip().rstrip("/")
        return found

    def topic(self, name: str) -> str:
        return f"{self.kafka_namespace}.{name}"

    def consumer_group(self, name: str) -> str:
        return f"{self.kafka_namespace}-{name}"


SettingsT = TypeVar("SettingsT", bound=CommonSettings)


def load_settings(cls: type[SettingsT]) -> SettingsT:
    """Settings for a process entry point: a bad value stops the process with one line per problem, naming
    the variable, instead of a validation traceback (which could also echo a secret)."""
    try:
        return cls()
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_input=False, include_url=False):
            variable = "_".join(str(part) for part in error["loc"]).upper()
            message = str(error.get("ctx", {}).get("error") or error["msg"])
            lines.append(message if variable and variable in message else f"{variable}: {message}")
        raise SystemExit("switchboard: configuration error: " + "; ".join(lines)) from None
