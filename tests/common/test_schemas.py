"""The one base of request bodies (switchboard_common.infra.schemas.Strict): no NUL in any text of a body, at
any depth, refused at the field with the pattern the published schema states."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from pydantic import Field, StringConstraints, ValidationError
from switchboard_common.infra.schemas import NUL_FREE, Strict


class Inner(Strict):
    label: str


class Email(Strict):
    kind: Literal["email"]
    address: str


class Phone(Strict):
    kind: Literal["phone"]
    number: str


class Body(Strict):
    name: str = "x"
    tags: list[str] = []
    attributes: dict[str, str] = {}
    extra: dict[str, Any] = {}
    inner: Inner | None = None
    # A discriminated union: the rule must not stand in the way of its discriminator.
    contact: Annotated[Email | Phone, Field(discriminator="kind")] | None = None
    code: Annotated[str, StringConstraints(pattern=r"^[a-z]+$")] = "a"
    by_language: dict[Annotated[str, StringConstraints(max_length=5, pattern=r"^[a-z]{2}$")], str] = {}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"name": "Bill\x00ing"}, ("name",)),
        ({"tags": ["ok", "b\x00d"]}, ("tags",)),
        ({"attributes": {"k": "v\x00"}}, ("attributes",)),
        ({"attributes": {"k\x00": "v"}}, ("attributes",)),
        ({"extra": {"deep": [{"deeper": "\x00"}]}}, ("extra",)),
        ({"inner": {"label": "\x00"}}, ("inner", "label")),
        ({"contact": {"kind": "email", "address": "a\x00@b.c"}}, ("contact", "email", "address")),
    ],
)
def test_nul_anywhere_in_a_body_is_refused_at_its_field(body: dict[str, Any], loc: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as refused:
        Body.model_validate(body)
    errors = refused.value.errors()
    assert [(e["loc"], e["type"]) for e in errors] == [(loc, "string_pattern_mismatch")]
    assert errors[0]["ctx"] == {"pattern": NUL_FREE}


def test_text_without_nul_is_accepted_as_sent() -> None:
    body = Body.model_validate(
        {"name": " Bill ", "tags": ["a"], "attributes": {"k": "v"}, "contact": {"kind": "phone", "number": "1"}}
    )
    assert body.name == " Bill " and body.contact is not None and body.contact.kind == "phone"


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        Body.model_validate({"nmae": "x"})
    assert refused.value.errors()[0]["type"] == "extra_forbidden"


def test_the_schema_states_the_rule() -> None:
    schema = Body.model_json_schema()
    properties = schema["properties"]
    assert properties["name"]["pattern"] == NUL_FREE
    assert properties["tags"]["items"]["pattern"] == NUL_FREE
    assert properties["attributes"]["additionalProperties"]["pattern"] == NUL_FREE
    assert properties["attributes"]["propertyNames"] == {"pattern": NUL_FREE}
    assert properties["extra"]["propertyNames"] == {"pattern": NUL_FREE}
    # A pattern of the field's own is kept (its character class rules NUL out).
    assert properties["code"]["pattern"] == "^[a-z]+$"
    # Keys with a pattern of their own must match it (pydantic's patternProperties alone would let others by).
    assert properties["by_language"]["propertyNames"] == {"maxLength": 5, "pattern": "^[a-z]{2}$"}
    with pytest.raises(ValidationError):
        Body.model_validate({"by_language": {"EN": "x"}})
    # Nested bodies state it in their own definitions; literals and enums are left alone.
    assert schema["$defs"]["Inner"]["properties"]["label"]["pattern"] == NUL_FREE
    assert schema["$defs"]["Email"]["properties"]["kind"] == {"const": "email", "title": "Kind", "type": "string"}
