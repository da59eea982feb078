"""Shared contracts of Switchboard: settings, event schema, bus, database, cache and crypto."""
