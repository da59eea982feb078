"""Data-subject requests: API, deadlines and the leased worker that runs them store by store."""
