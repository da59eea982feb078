"""Conversations and messages: ingest, routing state, business hours."""
