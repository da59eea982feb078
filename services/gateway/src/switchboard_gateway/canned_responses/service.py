"""Filling in a canned response's placeholders for one conversation."""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\{\{\s*(contact\.name|agent\.name|contact\.email)\s*\}\}")


def render(content: str, *, contact_name: str | None, agent_name: str, contact_email: str | None = None) -> str:
    """``{{contact.name}}`` (empty when unknown), ``{{contact.email}}`` and ``{{agent.name}}`` replaced; any
    other ``{{...}}`` stays as written (an agent sees it and fixes it before sending)."""
    values = {"contact.name": contact_name or "", "agent.name": agent_name, "contact.email": contact_email or ""}
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], content)
