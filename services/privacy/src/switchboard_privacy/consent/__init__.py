"""Consent records and the do-not-sell/share opt-out."""
