"""One error shape for every service: ``{"error": {"code", "message", "details"?}}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import MaxConnectionsError as RedisPoolExhausted
from redis.exceptions import TimeoutError as RedisTimeout
from sqlalchemy.exc import TimeoutError as DatabasePoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from switchboard_common.infra import metrics

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "gone",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    423: "locked",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
}


class AppError(Exception):
    """Raised by service code; rendered as JSON with its status."""

    def __init__(
        self, status: int, code: str, message: str, *, details: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Never echo the input back: it may hold a password or personal data.
    return [
        {"loc": [str(p) for p in err.get("loc", ())], "type": err.get("type"), "msg": err.get("msg")}
        for err in exc.errors()
    ]


def error_location(exc: BaseException) -> str:
    """file:line of our innermost frame: enough to debug, and unlike the message it quotes no data."""
    where = "?"
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if "switchboard_" in filename:
            where = f"{filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where


# PostgreSQL's "data exception" codes a client's input can cause: NUL or invalid characters in text.
INVALID_TEXT_SQLSTATES = frozenset({"22021", "22P05"})


def _sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error, through SQLAlchemy's and asyncpg's wrappers."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(code, str):
            return code
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
    return None


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route of ``app`` answers at ``path``."""
    from fastapi.routing import iter_route_contexts

    methods: set[str] = set()
    for route in iter_route_contexts(app.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


# What a client waits before retrying a request refused for a saturated pool: long enough for a burst to drain.
OVERLOAD_RETRY_AFTER_SECONDS = 1


def saturated_dependency(exc: BaseException) -> str | None:
    """``postgres`` or ``redis`` when ``exc`` (or what it wraps) is a connection pool that stayed full, or a
    connect that timed out, past POOL_TIMEOUT_SECONDS; else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DatabasePoolTimeout):
            return "postgres"
        if isinstance(current, RedisPoolExhausted | RedisTimeout):
            return "redis"
        current = current.__cause__ or current.__context__
    return None


def overloaded_response(dependency: str) -> JSONResponse:
    """The refusal for a saturated dependency: fast, explicit and retryable, never a 500. It is answered before
    any 2xx, so nothing it refuses was accepted."""
    import structlog

    metrics.OVERLOAD_REFUSALS.labels(dependency).inc()
    structlog.get_logger("switchboard.errors").warning("overloaded", dependency=dependency)
    return error_response(
        503,
        "overloaded",
        "the service is saturated; retry later",
        {"dependency": dependency, "retry_after_seconds": OVERLOAD_RETRY_AFTER_SECONDS},
        headers={"Retry-After": str(OVERLOAD_RETRY_AFTER_SECONDS)},
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        # A 5xx some handler raised because a pool was saturated (e.g. a webhook's publish-and-remember step).
        if exc.status >= 500 and (dependency := saturated_dependency(exc)):
            return overloaded_response(dependency)
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    async def _overloaded(_request: Request, exc: Exception) -> JSONResponse:
        return overloaded_response(saturated_dependency(exc) or "unknown")

    # Registered per class so Starlette's ExceptionMiddleware answers them (the catch-all below re-raises).
    for saturated in (DatabasePoolTimeout, RedisPoolExhausted, RedisTimeout):
        app.add_exception_handler(saturated, _overloaded)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # Starlette names only the first matching route's methods; a path served by several routes (GET and
            # POST /api/v1/teams) allows all of theirs.
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request.app, request.url.path))}
        return error_response(exc.status_code, code, message, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        if any(d["type"] == "json_invalid" for d in details):
            return error_response(400, "malformed_json", "request body is not valid JSON")
        return error_response(422, "validation_error", "request is not valid", details)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        import structlog

        # PostgreSQL refuses NUL characters in text: that is bad input (found by the API fuzzer), not a 500;
        # the request's transaction is rolled back, so nothing changed.
        if _sqlstate(exc) in INVALID_TEXT_SQLSTATES:
            return error_response(400, "invalid_text", "text must not contain NUL characters")
        # A pool timeout another error was raised from.
        if dependency := saturated_dependency(exc):
            return overloaded_response(dependency)
        # The class and our innermost frame only: messages and tracebacks of database errors quote the
        # statement's parameters, which may be personal data.
        structlog.get_logger("switchboard.errors").error(
            "unhandled_error", error=type(exc).__name__, where=error_location(exc)
        )
        return error_response(500, "internal_error", "internal error")
