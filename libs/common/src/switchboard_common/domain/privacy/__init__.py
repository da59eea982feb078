"""Privacy requests, audit, consent, retention."""
