"""Service-level policies: ``/api/v1/sla-policies``."""
