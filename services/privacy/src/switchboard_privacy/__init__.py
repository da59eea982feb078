"""Privacy: data-subject requests, consent, retention and account lifecycle across every store."""
