"""Every service's published contract (``/openapi.json``), completed from the code that serves it.

- Operation ids are the handlers' names (``create_team``), so generated clients read like the API.
- Every error an operation can answer is declared, with the one error shape (``{"error": {...}}``): what its
  dependencies can refuse (authentication, roles), what its parameters and body can fail (400, 413, 422, 404
  for an unknown id) and what the handler itself declares with :func:`errors`.
- Links, from the operations that return a resource's id (:func:`provides`) to every operation that takes that
  id as a path parameter, so clients and stateful fuzzers can follow them. New operations are linked by their
  parameter names alone.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

ERROR_SCHEMA_NAME = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Error",
    "description": "Every error answer of the API.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Machine-readable and stable, e.g. `not_found`."},
                "message": {"type": "string", "description": "For people; may change."},
                "details": {"description": "More about the error where there is more, e.g. invalid fields."},
            },
        }
    },
}
ERROR_DESCRIPTIONS = {
    400: "Malformed request: the body is not JSON",
    401: "Missing, invalid, expired or revoked credentials",
    403: "Authenticated, but not allowed to do this",
    404: "No such resource in this account",
    405: "Method not allowed",
    409: "Conflicts with the resource's current state",
    410: "Gone",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "The request does not match the schema, or its values are invalid together",
    423: "Locked",
    429: "Too many requests: retry after the Retry-After header's seconds",
    502: "An upstream platform failed",
    503: "Temporarily unavailable: retry",
}
_ERRORS_ATTRIBUTE = "__openapi_errors__"
_PROVIDES_KEY = "x-switchboard-provides"
_MODELS_KEY = "x-switchboard-models"
# Security scheme for routes checking HTTP basic credentials themselves: ``"security": [{BASIC_AUTH: []}]``.
BASIC_AUTH = "basicAuth"
_RAW_BODY_MODELS: dict[str, type[BaseModel]] = {}
_LINK_NAME = re.compile(r"[^A-Za-z0-9._-]")

Dependency = TypeVar("Dependency", bound=Callable[..., Any])


def errors(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the error statuses its handler answers, beyond the ones inferred.

    ``errors(404, 409, conflict="name_taken: a team with this name exists")`` describes 409 in its own words
    (keyword names: ``conflict``, ``forbidden``, ... see ``_NAMED``)."""
    declared: dict[int | str, dict[str, Any]] = {
        s: {"description": ERROR_DESCRIPTIONS.get(s, "Error")} for s in statuses
    }
    for name, text in descriptions.items():
        declared[_NAMED[name]] = {"description": text}
    return declared


_NAMED = {
    "bad_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "unprocessable": 422,
    "too_many": 429,
    "bad_gateway": 502,
    "unavailable": 503,
}


def declares(*statuses: int) -> Callable[[Dependency], Dependency]:
    """Marks a dependency with the error statuses it can answer: every operation using it declares them."""

    def mark(dependency: Dependency) -> Dependency:
        setattr(dependency, _ERRORS_ATTRIBUTE, tuple(statuses))
        return dependency

    return mark


def provides(**ids: str) -> dict[str, Any]:
    """``openapi_extra=`` for a route whose success response carries resource ids: path parameter name ->
    runtime expression, e.g. ``provides(team_id="$response.body#/id")`` or, for a list,
    ``provides(team_id="$response.body#/0/id")``. Every operation taking ``{team_id}`` gets a link."""
    return {_PROVIDES_KEY: dict(ids)}


def raw_body(
    body: type[BaseModel] | dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
    media_type: str = "application/json",
) -> dict[str, Any]:
    """``openapi_extra=`` for a route that reads its body itself (to verify a signature over the raw bytes):
    states the body (a model it validates, or a JSON Schema for a platform's payload; JSON unless
    ``media_type`` says otherwise, e.g. a form), and the ``headers`` (name -> description) it requires."""
    extra: dict[str, Any] = {}
    if isinstance(body, dict):
        schema = body
    else:
        schema = {"$ref": f"#/components/schemas/{body.__name__}"}
        extra[_MODELS_KEY] = [body.__name__]
        _RAW_BODY_MODELS[body.__name__] = body
    extra["requestBody"] = {"required": True, "content": {media_type: {"schema": schema}}}
    if headers:
        extra["parameters"] = [
            {"name": name, "in": "header", "required": True, "description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        ]
    return extra


def _dependency_calls(dependant: Any) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _dependency_calls(sub)


def _params(dependant: Any, kind: str) -> Iterator[Any]:
    yield from getattr(dependant, kind)
    for sub in dependant.dependencies:
        yield from _params(sub, kind)


def api_routes(app: FastAPI) -> Iterator[Any]:
    """The app's API routes as FastAPI serves them (included routers resolved to their full paths)."""
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            yield context


def inferred_errors(route: Any) -> set[int]:
    """The error statuses an operation can answer because of its parameters, body and dependencies."""
    dependant = route.dependant
    statuses: set[int] = set()
    for call in _dependency_calls(dependant):
        statuses.update(getattr(call, _ERRORS_ATTRIBUTE, ()))
    path_params = list(_params(dependant, "path_params"))
    if path_params:
        statuses.update({404, 422})  # every path parameter here names a resource: unknown ids are 404
    if any(True for kind in ("query_params", "header_params", "cookie_params") for _ in _params(dependant, kind)):
        statuses.add(422)
    if route.body_field is not None:
        statuses.update({400, 413, 422})
    return statuses


def _error_response(status: int, description: str | None = None) -> dict[str, Any]:
    return {
        "description": description or ERROR_DESCRIPTIONS.get(status, "Error"),
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}}},
    }


def _success_status(operation: dict[str, Any]) -> str | None:
    return min((s for s in operation["responses"] if s.startswith("2")), default=None)


def _add_links(paths: dict[str, Any]) -> None:
    """A link from each operation that provides an id to each operation taking it as a path parameter."""
    takers: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for methods in paths.values():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path":
                    takers.setdefault(parameter["name"], []).append((operation["operationId"], operation))
    for methods in paths.values():
        for operation in methods.values():
            provided: dict[str, str] = operation.pop(_PROVIDES_KEY, None) or {}
            status = _success_status(operation)
            if not provided or status is None:
                continue
            links = operation["responses"][status].setdefault("links", {})
            for name in provided:
                for target_id, target in takers.get(name, []):
                    if target is operation:
                        continue
                    target_params = {p["name"] for p in target.get("parameters", []) if p.get("in") == "path"}
                    parameters = {f"path.{p}": provided[p] for p in sorted(target_params) if p in provided}
                    link_name = _LINK_NAME.sub("_", target_id)
                    links.setdefault(link_name, {"operationId": target_id, "parameters": parameters})


def build_openapi(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        servers=app.servers,
    )
    paths: dict[str, Any] = schema.get("paths", {})
    for route in api_routes(app):
        for method in route.methods:
            operation = paths.get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            statuses = inferred_errors(route)
            if "requestBody" in operation:  # also a body the handler reads itself (raw_body)
                statuses.update({400, 413, 422})
            for status in statuses:
                responses.setdefault(str(status), {"description": ERROR_DESCRIPTIONS.get(status, "Error")})
            for status, response in list(responses.items()):
                if status[0] in "45":
                    responses[status] = _error_response(int(status), response.get("description"))
            # FastAPI's own 422 says "Validation Error"; ours says what it covers.
            if responses.get("422", {}).get("description") == "Validation Error":
                responses["422"]["description"] = ERROR_DESCRIPTIONS[422]
            operation["responses"] = dict(sorted(responses.items()))
    _add_links(paths)
    components = schema.setdefault("components", {})
    definitions = components.setdefault("schemas", {})
    for methods in paths.values():
        for operation in methods.values():
            for model_name in operation.pop(_MODELS_KEY, None) or []:
                _add_model(definitions, _RAW_BODY_MODELS[model_name])
    if any(BASIC_AUTH in r for m in paths.values() for o in m.values() for r in o.get("security", [])):
        components.setdefault("securitySchemes", {})[BASIC_AUTH] = {"type": "http", "scheme": "basic"}
    for unused in ("HTTPValidationError", "ValidationError"):
        definitions.pop(unused, None)
    definitions[ERROR_SCHEMA_NAME] = copy.deepcopy(ERROR_SCHEMA)
    components["schemas"] = dict(sorted(definitions.items()))
    return schema


def _add_model(definitions: dict[str, Any], model: type[BaseModel]) -> None:
    model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in model_schema.pop("$defs", {}).items():
        definitions.setdefault(name, definition)
    definitions.setdefault(model.__name__, model_schema)


def operation_id(route: APIRoute) -> str:
    """The handler's name: unique per service (FastAPI warns on duplicates, and the suite fails on warnings)."""
    return route.name


def install_openapi(app: FastAPI, *adjust: Callable[[dict[str, Any]], None]) -> None:
    """Serves :func:`build_openapi`'s document at ``/openapi.json`` (built once, on first request). ``adjust``:
    functions that state what only this installation knows (e.g. its regions) in the built document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build_openapi(app)
            for function in adjust:
                function(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # how FastAPI replaces its schema builder
