"""Sub-processors and the record of processing activities of an account (GDPR Art. 28(2), 30)."""
