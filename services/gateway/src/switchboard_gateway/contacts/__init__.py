"""Contacts as agents see them: one person, several channel identities."""
