"""Accounts, users (owners, admins, agents), teams, sign-in (tokens, sessions, TOTP), tenancy, presence."""
