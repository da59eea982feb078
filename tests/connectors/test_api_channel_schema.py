"""The API channel's body as published: its schema accepts exactly what ``POST /webhooks/api/{inbox_id}``
validates, so a client generated from it cannot build a body refused for a reason the schema did not state.
"Exactly one of message or csat" is a ``oneOf`` of two strict bodies; the rating is a strict integer."""

from __future__ import annotations

import json
import uuid
from typing import Any

import jsonschema_rs
import pytest
from pydantic import ValidationError
from switchboard_connectors.channels.api.webhook import ApiCsatIn, ApiInbound, ApiMessageIn
from switchboard_devstack.composite import build_apps

CONTACT = {"external_id": "customer-1"}
MESSAGE = {"id": "m-1", "text": "hello"}
CSAT = {"conversation_id": str(uuid.uuid4()), "rating": 4}


@pytest.fixture(scope="module")
def body_schema() -> jsonschema_rs.Validator:
    document = build_apps({"ENVIRONMENT": "test"})["connectors"].openapi()  # type: ignore[attr-defined]
    request_body = document["paths"]["/webhooks/api/{inbox_id}"]["post"]["requestBody"]
    schema = request_body["content"]["application/json"]["schema"]
    return jsonschema_rs.validator_for({**schema, "components": document["components"]})


def _accepted(body: Any) -> bool:
    try:
        ApiInbound.model_validate_json(json.dumps(body))
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"contact": CONTACT, "message": MESSAGE}, True),
        ({"contact": CONTACT, "csat": CSAT}, True),
        ({"contact": CONTACT, "csat": {**CSAT, "comment": ""}}, True),
        ({"contact": CONTACT, "message": MESSAGE, "csat": CSAT}, False),
        ({"contact": CONTACT}, False),
        ({"contact": CONTACT, "message": None}, False),
        ({"contact": CONTACT, "message": MESSAGE, "csat": None}, False),
        ({"contact": CONTACT, "csat": {**CSAT, "rating": True}}, False),
        ({"contact": CONTACT, "csat": {**CSAT, "rating": 6}}, False),
        ({"message": MESSAGE}, False),
        ([], False),
    ],
    ids=[
        "message",
        "csat",
        "csat-empty-comment",
        "both",
        "neither",
        "null-message",
        "message-and-null-csat",
        "boolean-rating",
        "rating-out-of-range",
        "no-contact",
        "not-an-object",
    ],
)
def test_the_schema_says_what_validation_does(body_schema: jsonschema_rs.Validator, body: Any, valid: bool) -> None:
    assert body_schema.is_valid(body) is valid
    assert _accepted(body) is valid


def test_exactly_one_of_message_or_csat_is_a_one_of_in_the_schema() -> None:
    document = build_apps({"ENVIRONMENT": "test"})["connectors"].openapi()  # type: ignore[attr-defined]
    schemas = document["components"]["schemas"]
    assert schemas["ApiInbound"]["oneOf"] == [
        {"$ref": "#/components/schemas/ApiMessageIn"},
        {"$ref": "#/components/schemas/ApiCsatIn"},
    ]
    for name, field in (("ApiMessageIn", "message"), ("ApiCsatIn", "csat")):
        assert schemas[name]["additionalProperties"] is False
        assert sorted(schemas[name]["required"]) == sorted(["contact", field])


def test_neither_or_both_is_refused_with_a_clear_reason() -> None:
    with pytest.raises(ValidationError) as neither:
        ApiInbound.model_validate_json(json.dumps({"contact": CONTACT}))
    assert neither.value.errors()[0]["msg"] == "give exactly one of message or csat"
    with pytest.raises(ValidationError) as both:
        ApiInbound.model_validate_json(json.dumps({"contact": CONTACT, "message": MESSAGE, "csat": CSAT}))
    assert both.value.errors()[0]["msg"] == "give exactly one of message or csat"
    assert isinstance(ApiInbound.model_validate({"contact": CONTACT, "message": MESSAGE}).root, ApiMessageIn)
    assert isinstance(ApiInbound.model_validate({"contact": CONTACT, "csat": CSAT}).root, ApiCsatIn)
