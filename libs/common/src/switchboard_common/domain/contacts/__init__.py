"""Contacts and their channel identities."""
