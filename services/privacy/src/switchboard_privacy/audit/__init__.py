"""Append-only audit trail of privacy actions (ids and counts only, never personal data)."""
