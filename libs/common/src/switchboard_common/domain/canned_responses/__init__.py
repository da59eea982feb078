"""Canned responses: saved replies an agent inserts by short code (``/refund``)."""
