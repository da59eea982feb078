"""The header of a Slack thread that mirrors a conversation (Slack as the agents' workspace). Shared: the
connectors write it, and a rectification of the contact's name rewrites it (privacy service)."""

from __future__ import annotations


def thread_header(channel: str, contact_name: str | None) -> str:
    who = contact_name or "a visitor"
    return f"New {channel} conversation with {who}. Reply in this thread to answer."
