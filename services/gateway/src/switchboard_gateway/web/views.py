"""Serves the console (`/`), the demo page (`/demo`), the widget script (`/widget.js`), translations
(`/i18n/<lang>.json`) and the widget's public configuration. Static files only: no build step."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import select
from switchboard_common.domain.accounts.tenancy import cross_tenant
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import errors

from switchboard_gateway.deps import SessionDep
from switchboard_gateway.web.schemas import WidgetConfig
from switchboard_gateway.widget.cors import remember_inbox

STATIC_DIR = Path(__file__).parent / "static"
I18N_DIR = Path(__file__).parent / "i18n"
CONSOLE_FILE = re.compile(r"^[a-z0-9_-]+\.(js|css)$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Pages load scripts and styles from this origin only; sockets go to this origin too. Inline styles stay
# allowed (the widget styles its shadow root with a <style> element); inline scripts, plugins, <base> and
# foreign form targets do not.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# On top of the headers every response has (switchboard_common.infra.http): no opener across origins, and no
# powerful browser features the pages never use.
PAGE_HEADERS = {
    "content-security-policy": PAGE_CSP,
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
# Production is served over HTTPS only (the ingress terminates TLS, docs/operations.md): no plain-HTTP fallback.
HSTS = "max-age=31536000; includeSubDomains"

router = APIRouter(include_in_schema=False)
config_router = APIRouter(prefix="/api/v1/widget", tags=["widget"])


def _page(request: Request, name: str) -> FileResponse:
    headers = dict(PAGE_HEADERS)
    if request.app.state.settings.environment == "production":
        headers["strict-transport-security"] = HSTS
    return FileResponse(STATIC_DIR / name, media_type="text/html; charset=utf-8", headers=headers)


@router.get("/")
async def console_page(request: Request) -> FileResponse:
    return _page(request, "console.html")


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    return FileResponse(
        STATIC_DIR / "favicon.ico", media_type="image/x-icon", headers={"cache-control": "public, max-age=86400"}
    )


@router.get("/demo")
async def demo_page(request: Request) -> FileResponse:
    return _page(request, "demo.html")


@router.get("/widget.js")
async def widget_script() -> FileResponse:
    # Embedded on customers' sites: any origin may load it (the API's CORS still applies to its calls).
    return FileResponse(
        STATIC_DIR / "widget.js",
        media_type=MEDIA_TYPES[".js"],
        headers={"cross-origin-resource-policy": "cross-origin"},
    )


@router.get("/console/{name}")
async def console_asset(name: str) -> FileResponse:
    path = STATIC_DIR / "console" / name
    if not CONSOLE_FILE.match(name) or not path.is_file():
        raise AppError(404, "not_found", "no such file")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix])


@router.get("/i18n/index.json")
async def languages() -> JSONResponse:
    return JSONResponse(
        sorted(p.stem for p in I18N_DIR.glob("*.json")),
        headers={"cross-origin-resource-policy": "cross-origin", "access-control-allow-origin": "*"},
    )


@router.get("/i18n/{lang}.json")
async def translation(lang: str) -> FileResponse:
    path = I18N_DIR / f"{lang}.json"
    if not LANGUAGE.match(lang) or not path.is_file():
        raise AppError(404, "not_found", "no translation for this language")
    # Public texts the widget loads from customers' sites: readable from any origin (no credentials involved).
    return FileResponse(
        path,
        media_type="application/json; charset=utf-8",
        headers={"cross-origin-resource-policy": "cross-origin", "access-control-allow-origin": "*"},
    )


@config_router.get(
    "/config",
    response_model=WidgetConfig,
    responses=errors(not_found="unknown_widget: no web inbox has this widget token"),
)
async def widget_config(
    request: Request, session: SessionDep, widget_token: str = Query(min_length=1, max_length=64, pattern=r"^[^\x00]*$")
) -> WidgetConfig:
    """What the widget shows before a session exists: language, greeting and consent text (no secrets)."""
    # Before any credential: the inbox (and its account) is found by its public widget token.
    inbox = await session.scalar(
        cross_tenant(select(Inbox).where(Inbox.widget_token == widget_token, Inbox.channel == "web"))
    )
    if inbox is None:
        raise AppError(404, "unknown_widget", "no web inbox has this widget token")
    remember_inbox(request, inbox)
    settings: dict[str, Any] = inbox.settings or {}
    translations = settings.get("translations") if isinstance(settings.get("translations"), dict) else {}
    return WidgetConfig(
        inbox_name=inbox.name,
        display_name=settings.get("display_name") or None,
        language=settings.get("language"),
        greeting=settings.get("greeting"),
        consent_required=bool(settings.get("consent_required")),
        consent_text=settings.get("consent_text"),
        consent_version=str(settings.get("consent_version") or "1"),
        translations=translations or {},
    )
