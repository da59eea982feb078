"""Keyed pseudonyms of channel identities (``switchboard_common.infra.pseudonyms``): what stands for a person's
platform id wherever an id must appear outside the contact tables (Redis key names, Kafka keys)."""

from __future__ import annotations

from switchboard_common.infra.pseudonyms import Pseudonyms


def messenger_psid(pseudonyms: Pseudonyms, psid: str) -> str:
    """A Messenger PSID as it may appear in a Redis key name (never the PSID itself)."""
    return pseudonyms.digest("messenger-psid", psid, hex_chars=32)
