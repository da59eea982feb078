"""Building blocks of request bodies, so that what the schema says is exactly what validation accepts.

- Request bodies derive from :class:`switchboard_common.infra.schemas.Strict`: unknown fields are refused and
  no text anywhere in them may hold a NUL (one rule there, stated in the schema, not one per field).
- Numbers and booleans are strict (``Int``, ``Float``, ``Bool``): ``false`` is not a capacity, ``"1"`` not a count.
- Text (:func:`text`) states its limits in the schema: length and, for names, at least one visible character
  (surrounding ASCII whitespace is trimmed after the check).
- Optional fields are either nullable on purpose (``X | None``: null has a meaning, e.g. "back to the
  default") or may only be left out (:func:`omittable`): null is refused, and the schema does not offer it.

``tests/api/test_contract.py`` walks every request body of every service and fails on a lax number or bool,
or text without a maximum length.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any, get_args
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
    create_model,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from switchboard_common.infra.schemas import Strict

# ASCII whitespace (HT, LF, VT, FF, CR, space): the same set for the schema's pattern, the check and the trim.
_SPACE = "\t\n\x0b\x0c\r "
VISIBLE_TEXT = r"^[^\x00]*[^\x00\x09-\x0d\x20][^\x00]*$"


class _Format:
    """Adds a JSON Schema ``format`` to a string type (for generators and readers; the pattern is the check)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["format"] = self.name
        return schema


def _json_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expected a JSON number")
    return value


# A JSON integer: 3 or 3.0 (JSON Schema counts both), never true, "3" or 3.5.
Int = Annotated[int, BeforeValidator(_json_number)]


class TypeOf:
    """Pydantic metadata standing for a whole constrained type, so a module names it as a type the type checker
    reads too: ``Capacity = Annotated[int, integer(0, 1000)]``, ``Skill = Annotated[str, text(100)]``."""

    __slots__ = ("annotated",)

    def __init__(self, annotated: Any) -> None:
        self.annotated = annotated

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return handler.generate_schema(self.annotated)


def integer(minimum: int, maximum: int) -> TypeOf:
    """An ``Int`` within bounds (``Annotated[int, integer(1, 5)]``), usable inside ``X | None`` (the bounds stay on
    the integer in the schema)."""
    # Bounds first: they then sit on the integer schema (after the validator, pydantic would leave "ge"/"le").
    return TypeOf(Annotated[int, Field(ge=minimum, le=maximum), BeforeValidator(_json_number)])


Float = Annotated[float, Field(strict=True)]
Bool = Annotated[bool, Field(strict=True)]


_RFC3339 = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|([+-])([0-9]{2}):([0-9]{2}))$"
)
_EARLIEST, _LATEST = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)


def _timestamp(value: Any) -> datetime:
    """RFC 3339 exactly as JSON Schema's "date-time" reads it, in UTC. A leap second counts as the second before
    it; times beyond Python's years 1..9999 (year 0, or an offset across the edge) are clamped to them."""
    match = _RFC3339.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError("expected an RFC 3339 date-time such as 2030-01-31T09:00:00Z")
    year, month, day, hour, minute, second, fraction, offset, sign, off_hours, off_minutes = match.groups()
    offset_minutes = 0
    if offset in ("Z", "z"):
        zone = UTC
    else:
        if int(off_hours) > 23 or int(off_minutes) > 59:
            raise ValueError("the offset must be at most 23:59")
        offset_minutes = (-1 if sign == "-" else 1) * (int(off_hours) * 60 + int(off_minutes))
        zone = timezone(timedelta(minutes=offset_minutes))
    if int(second) == 60:
        # A leap second is 23:59:60 UTC; it counts as the second before it.
        if (int(hour) * 60 + int(minute) - offset_minutes) % 1440 != 1439:
            raise ValueError("a leap second is 23:59:60 UTC")
        second = "59"
    microsecond = int((fraction[1:] + "000000")[:6]) if fraction else 0
    # Year 0 (1 BC, a leap year) is valid RFC 3339; its other fields are checked on leap year 2000.
    checked_year = int(year) or 2000
    moment = datetime(checked_year, int(month), int(day), int(hour), int(minute), int(second), microsecond, zone)
    if int(year) == 0:
        return _EARLIEST
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return _EARLIEST if int(year) == 1 else _LATEST


# An RFC 3339 date-time with its offset ("2030-01-31T09:00:00Z"), as UTC.
Timestamp = Annotated[datetime, PlainValidator(_timestamp), WithJsonSchema({"type": "string", "format": "date-time"})]


def _trim(value: str) -> str:
    return value.strip(_SPACE)


def text(max_length: int, *, min_length: int = 1, visible: bool = True) -> TypeOf:
    """A string type of at most ``max_length`` characters (``Annotated[str, text(100)]``; in a request body:
    without NUL). ``visible``: at least one character that is not whitespace, and surrounding whitespace is
    trimmed (names, labels). Otherwise kept as sent."""
    if visible:
        return TypeOf(
            Annotated[
                str,
                StringConstraints(min_length=max(min_length, 1), max_length=max_length, pattern=VISIBLE_TEXT),
                AfterValidator(_trim),
            ]
        )
    return TypeOf(Annotated[str, StringConstraints(min_length=min_length, max_length=max_length)])


# The common ones; modules name their own at module level (``Skill = Annotated[str, text(100)]``).
Name = Annotated[str, text(200)]
Password = Annotated[str, text(256, min_length=8, visible=False)]
Secret = Annotated[str, text(1024, visible=False)]

# An address as RFC 5321 spells it (a dot-atom local part, a host name with a dot). The schema states the
# pattern, not the "email" format: validators differ on that format's edges, and a pattern reads the same in
# every regex engine of this API's users. Deliverability is not checked.
_ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = rf"^{_ATOM}(\.{_ATOM})*@{_LABEL}(\.{_LABEL})+$"


# Special-use domain names (RFC 6761 and successors) never receive mail: an address there is refused (422 on the
# field), as the address validator before the pattern did; the pattern alone cannot say it in every dialect.
RESERVED_MAIL_DOMAINS = frozenset({"invalid", "test", "localhost", "local", "onion", "arpa"})


def _lower(value: str) -> str:
    if value.rsplit(".", 1)[-1].lower() in RESERVED_MAIL_DOMAINS:
        raise ValueError("this domain is reserved and receives no mail: enter a valid e-mail address")
    return value.lower()


Email = Annotated[
    str,
    StringConstraints(max_length=254, pattern=EMAIL_PATTERN),
    AfterValidator(_lower),
]


IPV4_PATTERN = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}"
_H = "[0-9A-Fa-f]{1,4}"
IPV6_PATTERN = (
    f"({_H}:){{7}}{_H}|({_H}:){{1,7}}:|({_H}:){{1,6}}:{_H}|({_H}:){{1,5}}(:{_H}){{1,2}}|({_H}:){{1,4}}(:{_H}){{1,3}}"
    f"|({_H}:){{1,3}}(:{_H}){{1,4}}|({_H}:){{1,2}}(:{_H}){{1,5}}|{_H}:(:{_H}){{1,6}}|:((:{_H}){{1,7}}|:)"
    f"|::(ffff(:0{{1,4}})?:)?{IPV4_PATTERN}|({_H}:){{1,4}}:{IPV4_PATTERN}"
)
# An IPv4 or IPv6 address, or a network with its prefix length ("203.0.113.0/24", "2001:db8::/32").
NETWORK_PATTERN = f"^(({IPV4_PATTERN})(/(3[0-2]|[12]?[0-9]))?|({IPV6_PATTERN})(/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?)$"
Network = Annotated[str, StringConstraints(max_length=64, pattern=NETWORK_PATTERN)]

PORT_PATTERN = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}|0)"
# http(s), a host (a name, or an IPv6 literal in brackets), an optional port, path, query and fragment, in the
# characters RFC 3986 allows (others percent-encoded). No credentials. Whether the host may be called is
# checked when it is used (outbound_http).
_URI_CHARS = "A-Za-z0-9._~!$&'()*+,;="
_PCT = "%[0-9A-Fa-f]{2}"
URL_PATTERN = (
    rf"^https?://(([{_URI_CHARS}-]|{_PCT})+|\[({IPV6_PATTERN})\])(:{PORT_PATTERN})?"
    rf"(/([{_URI_CHARS}:@-]|{_PCT})*)*(\?([{_URI_CHARS}:@/?-]|{_PCT})*)?(#([{_URI_CHARS}:@/?-]|{_PCT})*)?$"
)


def _url(value: str) -> str:
    parts = urlsplit(value)  # raises ValueError for a malformed IPv6 literal
    if not parts.hostname:
        raise ValueError("a URL needs a host")
    return value


HttpUrl = Annotated[
    str,
    StringConstraints(max_length=2048, pattern=URL_PATTERN),
    _Format("uri"),
    AfterValidator(_url),
]


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def omittable(**constraints: Any) -> Any:
    """A field that may be left out (it is then unset: ``model_dump(exclude_unset=True)`` omits it) but never
    null. Its annotation must not include None."""
    return Field(default=None, json_schema_extra=_drop_default, **constraints)


def _nullable(annotation: Any) -> bool:
    return annotation is None or type(None) in get_args(annotation)


def partial(model: type[BaseModel], name: str) -> type[Strict]:
    """``model`` with every field omittable (for updates that merge): same types and constraints, no defaults;
    null only where ``model`` takes null."""
    fields: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        changed = copy.copy(info)
        changed.default, changed.default_factory = None, None
        if not _nullable(info.annotation):
            changed.json_schema_extra = _drop_default
        fields[field_name] = (info.annotation, changed)
    doc = f"Any of {model.__name__}'s fields; those left out keep their value."
    return create_model(name, __base__=Strict, __doc__=doc, **fields)
