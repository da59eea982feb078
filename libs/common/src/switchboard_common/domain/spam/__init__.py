"""The per-account spam filter."""
