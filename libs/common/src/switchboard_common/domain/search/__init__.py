"""Full-text search: which PostgreSQL text-search configuration reads a message, by its language."""
