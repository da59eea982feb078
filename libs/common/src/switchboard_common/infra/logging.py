"""Structured JSON logs that never carry personal data.

Event fields are allow-listed by name pattern: anything that looks like message text, an e-mail address,
a phone number, a token or an IP address is redacted by ``scrub`` before rendering, as a last line of
defence behind the rule that code logs ids and counts only.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

SENSITIVE_KEYS = re.compile(
    r"(text|body|content|message_text|email|phone|password|secret|token|authorization|cookie|name|ip|address)",
    re.IGNORECASE,
)
ALLOWED_KEYS = {
    "event",
    "level",
    "timestamp",
    "logger",
    "service",
    "error",
    "exc_info",
    "event_type",
    "name_hash",
    "topic",
    "group",
    "channel",
    "outcome",
    "status",
    "method",
    "path",
    "route",
    "duration_ms",
    "attempt",
    "transient",
    "offset",
    "partition",
    "attempts",
    "count",
    "event_id",
    "tenant_id",
    "conversation_id",
    "message_id",
    "agent_id",
    "inbox_id",
    "contact_id",
    "request_id",
    "strategy",
    "reason",
    "client_net",
}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE = re.compile(r"\+?\d[\d\s().-]{7,}\d")
BEARER = re.compile(r"(xox[abpr]-[\w-]+|eyJ[\w-]+\.[\w-]+\.[\w-]+|Bearer\s+\S+)")
IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")


def redact_text(value: str) -> str:
    value = EMAIL.sub("[email]", value)
    value = BEARER.sub("[token]", value)
    value = IPV4.sub("[ip]", value)
    return PHONE.sub("[phone]", value)


def scrub(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        value = event_dict[key]
        if key in ("exc_info", "timestamp"):
            continue  # the ISO timestamp would otherwise look like a phone number to PHONE
        if key not in ALLOWED_KEYS and SENSITIVE_KEYS.search(key):
            event_dict[key] = "[redacted]"
        elif isinstance(value, str):
            event_dict[key] = redact_text(value)
    return event_dict


def truncate_ip(address: str | None) -> str | None:
    """The network part only (/24 for IPv4, /48 for IPv6), as privacy-preserving analytics do."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


class QueryStringFilter(logging.Filter):
    """Cuts query strings out of library log lines (uvicorn's request and WebSocket lines put the full URL in
    their arguments): a ``?token=`` or ``?email=`` must never reach a log."""

    @staticmethod
    def _cut(value: object) -> object:
        if isinstance(value, str) and "?" in value and value.lstrip().startswith("/"):
            return value.split("?", 1)[0] + "?[query]"
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._cut(arg) for arg in record.args)
        elif isinstance(record.msg, str):
            record.msg = str(self._cut(record.msg))
        return True


_QUERY_FILTER = QueryStringFilter()
# Libraries that log request paths.
QUERY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "websockets", "websockets.server")


def hide_query_strings() -> None:
    """Installs the filter on every library logger that writes request paths (idempotent)."""
    for name in QUERY_LOGGERS:
        logger = logging.getLogger(name)
        if _QUERY_FILTER not in logger.filters:
            logger.addFilter(_QUERY_FILTER)


def _redact_exception(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    exc = event_dict.get("exception")
    if isinstance(exc, str):
        event_dict["exception"] = redact_text(exc)
    return event_dict


def configure_logging(
    level: str = "INFO", *, json_output: bool = True, service: str = "switchboard", stream: Any = None
) -> None:
    renderer: Any = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            scrub,
            structlog.processors.format_exc_info,
            _redact_exception,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stderr),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries log through stdlib logging; keep them quiet and never let them print request bodies.
    logging.basicConfig(level=logging.WARNING, stream=stream or sys.stderr, format="%(name)s %(levelname)s %(message)s")
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    hide_query_strings()
