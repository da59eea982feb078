"""The base of every request body the services accept, with the rules every field of every body follows.

- Unknown fields are refused (a 422 names them), never silently dropped.
- No text holds a NUL character: PostgreSQL cannot store one (in text or jsonb), and it means nothing in a
  name, a message or a setting. Every string of the body, at any depth and in object keys too, is checked
  (nested bodies check their own fields), and the published schema says so: strings without a pattern of their
  own get ``^[^\\x00]*$`` (patterns of their own exclude NUL by their character classes), objects with free
  keys get it as ``propertyNames``. A NUL is then a 422, as the schema announces, not a database error.

Field types with their limits (length, strict numbers, formats) live in :mod:`switchboard_common.infra.inputs`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, GetJsonSchemaHandler, field_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

NUL_FREE = r"^[^\x00]*$"

# Strings whose format already rules NUL out (they are parsed, and a NUL never parses).
_PARSED_FORMATS = frozenset({"uuid", "date-time", "date", "time", "duration"})
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SUBSCHEMAS = ("items", "additionalProperties", "not", "if", "then", "else", "contains")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs")


def contains_nul(value: Any) -> bool:
    """Whether a decoded JSON value holds a NUL character in any string or object key."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(item) for item in value)
    return False


def _is_string(node: dict[str, Any]) -> bool:
    kind = node.get("type")
    return kind == "string" or (isinstance(kind, list) and "string" in kind)


def state_nul_free(node: Any) -> None:
    """Adds the no-NUL pattern to every string of a JSON schema that has no pattern, enum or parsed format;
    referenced schemas are left to state it themselves."""
    if isinstance(node, list):
        for item in node:
            state_nul_free(item)
        return
    if not isinstance(node, dict) or "$ref" in node:
        return
    if (
        _is_string(node)
        and not {"pattern", "enum", "const"} & node.keys()
        and node.get("format") not in _PARSED_FORMATS
    ):
        node["pattern"] = NUL_FREE
    free_keys = node.get("type") == "object" and "properties" not in node
    patterned = node.get("patternProperties")
    if free_keys and isinstance(patterned, dict) and len(patterned) == 1 and "additionalProperties" not in node:
        # A dict whose keys have a pattern (pydantic states it as patternProperties, which lets other keys
        # through): the keys must match it, as validation requires.
        node.setdefault("propertyNames", {}).setdefault("pattern", next(iter(patterned)))
    if free_keys and node.get("additionalProperties", True) is not False:
        names = node.setdefault("propertyNames", {})
        if not {"pattern", "enum", "const"} & names.keys():
            names["pattern"] = NUL_FREE
    for key in _SUBSCHEMA_LISTS:
        state_nul_free(node.get(key))
    for key in _SUBSCHEMAS:
        state_nul_free(node.get(key))
    for key in _SUBSCHEMA_MAPS:
        children = node.get(key)
        if isinstance(children, dict):
            state_nul_free(list(children.values()))


class Strict(BaseModel):
    """A request body: unknown fields are a 422, and so is a NUL character in any text."""

    model_config = ConfigDict(extra="forbid")

    # After each field's own validation (a "before" validator cannot sit on a union's discriminator): text
    # that passed its type still holds any NUL it was sent with.
    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        if contains_nul(value):
            # The error pydantic gives for a pattern the text does not match: the schema's pattern is the reason.
            raise PydanticCustomError(
                "string_pattern_mismatch", "String should match pattern '{pattern}'", {"pattern": NUL_FREE}
            )
        return value

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(core_schema)
        state_nul_free(handler.resolve_ref_schema(json_schema))
        return json_schema
