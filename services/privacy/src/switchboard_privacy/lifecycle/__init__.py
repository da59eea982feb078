"""Account lifecycle: trial/billing -> suspended -> terminated -> purged."""
