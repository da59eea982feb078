"""Response bodies of the web console and widget assets."""

from __future__ import annotations

from pydantic import BaseModel


class WidgetConfig(BaseModel):
    inbox_name: str
    display_name: str | None = None
    language: str | None
    greeting: str | None
    consent_required: bool
    consent_text: str | None
    consent_version: str = "1"
    translations: dict[str, dict[str, str]]
