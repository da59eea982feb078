"""`make bench`: measurements of the running system next to a bare FastAPI endpoint, in the same run."""
