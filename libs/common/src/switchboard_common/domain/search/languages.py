"""The language of a message and the PostgreSQL text-search configuration that reads it.

A message's language is what its text shows (Greek script; letters only Hungarian or Albanian use), else its
inbox's language (``settings.language``), else none. The configuration is PostgreSQL's built-in stemmer for the
language; Albanian has none, so it and every unknown language use ``simple`` (words as written, lower-cased).
The mapping lives in SQL too (the ``messages.search_vector`` generated column, migration 0013): keep both equal.
"""

from __future__ import annotations

import re

CONFIGS: dict[str, str] = {"el": "greek", "hu": "hungarian", "en": "english", "sq": "simple"}
FALLBACK = "simple"
# Every configuration a stored message can be indexed with: a query is parsed once with each.
ALL_CONFIGS: tuple[str, ...] = ("simple", "greek", "hungarian", "english")

_GREEK = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]")
# ő and ű are Hungarian's own letters; ë is Albanian's most frequent one (and rare elsewhere).
_HUNGARIAN = re.compile(r"[őűŐŰ]")
_ALBANIAN = re.compile(r"[ëË]")


def config_for(language: str | None) -> str:
    """The text-search configuration of a language code (``el``, ``hu-HU``, ...); ``simple`` when unknown."""
    if not language:
        return FALLBACK
    return CONFIGS.get(language.split("-")[0].lower(), FALLBACK)


def guess_language(text: str | None, inbox_language: str | None = None) -> str | None:
    """The message's language code: from its letters when they tell, else the inbox's language."""
    if text:
        if _GREEK.search(text):
            return "el"
        if _HUNGARIAN.search(text):
            return "hu"
        if _ALBANIAN.search(text):
            return "sq"
    if inbox_language:
        return inbox_language.split("-")[0].lower()[:8] or None
    return None


def config_case_sql(column: str) -> str:
    """The SQL expression choosing the configuration from a language column (immutable: usable in a generated
    column). ``column`` is one of our column names, never input."""
    branches = " ".join(f"WHEN '{code}' THEN '{config}'::regconfig" for code, config in CONFIGS.items())
    return f"CASE {column} {branches} ELSE '{FALLBACK}'::regconfig END"
