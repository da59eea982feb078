"""The published contract of every service, read from the apps themselves (no server needed): request bodies
strict, every error declared with the one error shape, every id-taking operation reachable through a link.
New endpoints are checked as soon as they are routed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from fastapi import FastAPI
from openapi_spec_validator import validate
from pydantic import TypeAdapter
from switchboard_common.infra.inputs import _json_number
from switchboard_common.infra.openapi import api_routes
from switchboard_devstack.composite import build_apps

# Path parameters whose values come from outside the service's own document, with where they come from.
LINK_EXEMPT = {
    ("connectors", "inbox_id"): "the gateway's POST /api/v1/inboxes (an API inbox)",
    ("privacy", "contact_id"): "the gateway's conversations and contacts",
    ("privacy", "agent_id"): "the gateway's GET /api/v1/agents",
    ("privacy", "token"): "the confirmation link sent to the subject through their channel",
}

# Bodies in a platform's own shape, verified by signature: NUL in their text is dropped when they are
# normalized into events (switchboard_common.domain.events), never refused (the platform would retry forever).
PLATFORM_PAYLOADS = {
    "/webhooks/slack/events",
    "/webhooks/slack/interactivity",
    "/webhooks/messenger",
    "/webhooks/dialogflow",
    "/webhooks/dialogflow/{inbox_id}",
}


@pytest.fixture(scope="module")
def apps() -> dict[str, FastAPI]:
    return {name: app for name, app in build_apps({"ENVIRONMENT": "test"}).items()}  # type: ignore[misc]


@pytest.fixture(scope="module")
def documents(apps: dict[str, FastAPI]) -> dict[str, dict[str, Any]]:
    return {name: app.openapi() for name, app in apps.items()}


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def _lax_scalars(node: Any, where: str, guarded: bool = False) -> Iterator[str]:
    """Where a pydantic core schema accepts a number or bool leniently, or text without a length limit."""
    if isinstance(node, list):
        for item in node:
            yield from _lax_scalars(item, where, guarded)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    function = node.get("function", {})
    if kind == "function-plain":
        return  # a validator of ours decides alone (e.g. Timestamp)
    if kind == "function-before" and isinstance(function, dict) and function.get("function") is _json_number:
        yield from _lax_scalars(node["schema"], where, guarded=True)
        return
    if kind == "int" and not (node.get("strict") or guarded):
        yield f"{where}: a lax integer (true and '3' would pass)"
    if kind in ("float", "bool") and not node.get("strict"):
        yield f"{where}: a lax {kind}"
    if kind == "str" and node.get("max_length") is None:
        yield f"{where}: text without max_length"
    if kind == "any":
        yield f"{where}: an untyped value"
    for key, value in node.items():
        if key not in ("function", "cls", "metadata", "ref", "serialization"):
            yield from _lax_scalars(value, where)


def test_request_bodies_are_strict(apps: dict[str, FastAPI]) -> None:
    """A boolean is not a capacity: every number and bool of every request body is strict, and every text has
    a maximum length, so a type confusion cannot reach the database."""
    problems: list[str] = []
    bodies = 0
    for name, app in apps.items():
        for route in api_routes(app):
            if route.body_field is None:
                continue
            bodies += 1
            schema = TypeAdapter(route.body_field.field_info.annotation).core_schema
            problems.extend(_lax_scalars(schema, f"{name} {sorted(route.methods)} {route.path}"))
    assert bodies >= 30, "request bodies should be found in the routes"
    assert not problems, "\n".join(sorted(set(problems)))


def test_documents_are_valid_openapi_with_standard_keywords(documents: dict[str, dict[str, Any]]) -> None:
    """Valid OpenAPI 3.1; every pattern is a regex every JSON Schema validator reads; no pydantic-only keywords
    ("ge", "le" left where a bound could not be placed) that validators would silently ignore."""
    leftovers: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                jsonschema_rs.validator_for({"type": "string", "pattern": node["pattern"]})  # raises if invalid
            if node.get("type") in ("integer", "number") and {"ge", "le", "gt", "lt"} & set(node):
                leftovers.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    for name, document in documents.items():
        validate(document)
        walk(document, name)
    assert not leftovers, leftovers


def _body_schemas(document: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Every schema a request body of ``document`` uses, inline or by reference, once."""
    components = document["components"]["schemas"]
    seen: set[str] = set()

    def refs(node: Any) -> Iterator[tuple[str, Any]]:
        if isinstance(node, dict):
            ref = node.get("$ref", "").rsplit("/", 1)[-1]
            if ref and ref not in seen:
                seen.add(ref)
                yield ref, components[ref]
                yield from refs(components[ref])
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for path, method, operation in _operations(document):
        if "requestBody" in operation and path not in PLATFORM_PAYLOADS:
            yield f"{method.upper()} {path}", operation["requestBody"]
            yield from refs(operation["requestBody"])


def test_no_request_text_may_hold_nul(documents: dict[str, dict[str, Any]]) -> None:
    """PostgreSQL cannot store NUL: every string of every request body says it refuses one (the shared base's
    pattern, or a pattern, enum or parsed format of its own), and every object with free keys says it of them."""
    problems: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{where}/{index}")
            return
        if not isinstance(node, dict):
            return
        kind = node.get("type")
        if kind == "string" or (isinstance(kind, list) and "string" in kind):
            if not ({"pattern", "enum", "const"} & node.keys() or node.get("format") in ("uuid", "date-time")):
                problems.append(f"{where}: text that may hold NUL")
            elif "pattern" in node and jsonschema_rs.is_valid({"pattern": node["pattern"]}, "a\x00b"):
                problems.append(f"{where}: a pattern that lets NUL through")
        if kind == "object" and "properties" not in node and node.get("additionalProperties", True) is not False:
            names = node.get("propertyNames", {})
            if not ({"pattern", "enum", "const"} & names.keys()):
                problems.append(f"{where}: keys that may hold NUL")
            elif "pattern" in names and jsonschema_rs.is_valid({"pattern": names["pattern"]}, "a\x00b"):
                problems.append(f"{where}: a key pattern that lets NUL through")
        for key, value in node.items():
            walk(value, f"{where}/{key}")

    for name, document in documents.items():
        for where, schema in _body_schemas(document):
            walk(schema, f"{name} {where}")
    assert not problems, "\n".join(sorted(set(problems)))


def test_every_error_is_declared_with_the_error_shape(
    apps: dict[str, FastAPI], documents: dict[str, dict[str, Any]]
) -> None:
    problems = []
    for name, document in documents.items():
        for path, method, operation in _operations(document):
            responses = operation["responses"]
            label = f"{name} {method.upper()} {path}"
            for status, response in responses.items():
                if status[0] in "45":
                    schema = response.get("content", {}).get("application/json", {}).get("schema")
                    if schema != {"$ref": "#/components/schemas/Error"}:
                        problems.append(f"{label} {status}: not the error shape")
            params = {p["in"] for p in operation.get("parameters", [])}
            expected = set()
            if "path" in params:
                expected |= {"404", "422"}
            if params - {"header"}:
                expected.add("422")
            if "requestBody" in operation:
                expected |= {"400", "413", "422"}
            schemes = {scheme for requirement in operation.get("security", []) for scheme in requirement}
            if "HTTPBearer" in schemes:
                expected |= {"401", "403"}
            if schemes:
                expected.add("401")
            missing = expected - set(responses)
            if missing:
                problems.append(f"{label}: undeclared {sorted(missing)}")
        assert "HTTPValidationError" not in document["components"]["schemas"]
        assert document["components"]["schemas"]["Error"]["required"] == ["error"]
    assert not problems, "\n".join(problems)


def test_every_path_parameter_is_reachable_through_a_link(documents: dict[str, dict[str, Any]]) -> None:
    """Each {x_id} an operation takes is supplied by a link from an operation that creates or lists it, so
    generated clients and stateful fuzzers can follow them (declare with switchboard_common.openapi.provides)."""
    problems = []
    for name, document in documents.items():
        supplied: dict[str, set[str]] = {}
        for _path, _method, operation in _operations(document):
            for response in operation["responses"].values():
                for link in response.get("links", {}).values():
                    names = {key.removeprefix("path.") for key in link.get("parameters", {})}
                    supplied.setdefault(link["operationId"], set()).update(names)
        for path, method, operation in _operations(document):
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "path" or (name, parameter["name"]) in LINK_EXEMPT:
                    continue
                if parameter["name"] not in supplied.get(operation["operationId"], set()):
                    problems.append(f"{name} {method.upper()} {path}: nothing links {{{parameter['name']}}}")
    assert not problems, "\n".join(problems)


def test_links_point_at_operations_that_exist(documents: dict[str, dict[str, Any]]) -> None:
    for document in documents.values():
        ids = {operation["operationId"] for _p, _m, operation in _operations(document)}
        for _path, _method, operation in _operations(document):
            for response in operation["responses"].values():
                for link in response.get("links", {}).values():
                    assert link["operationId"] in ids
                    for expression in link["parameters"].values():
                        assert re.fullmatch(r"\$response\.body#(/[\w-]+)*", expression), expression


def test_schema_names_are_unique(documents: dict[str, dict[str, Any]]) -> None:
    """Two models of one name in a service get module-path names (``switchboard_gateway__widget__...``) that
    generated clients carry: name each model for what it is."""
    for name, document in documents.items():
        qualified = [key for key in document["components"]["schemas"] if "__" in key]
        assert not qualified, f"{name}: {qualified}"


def test_operation_ids_are_the_handlers_names(documents: dict[str, dict[str, Any]]) -> None:
    """Generated clients name their functions after these (``create_team``, not ``create_team_api_v1_teams_post``)."""
    for document in documents.values():
        ids = [operation["operationId"] for _p, _m, operation in _operations(document)]
        assert len(ids) == len(set(ids))
        assert all(re.fullmatch(r"[a-z][a-z0-9_]*", i) and "api_v1" not in i for i in ids), ids
