"""The waiting queue, as agents and admins see it."""
