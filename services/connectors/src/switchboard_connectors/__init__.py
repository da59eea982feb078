"""Connectors: verify and normalize channel webhooks onto Kafka, and deliver agent replies back out."""
