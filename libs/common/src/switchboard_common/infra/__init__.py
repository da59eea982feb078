"""Infrastructure: settings, bus, database engine, cache, crypto, HTTP, logging, tracing, metrics.

Imports no domain module (an import-linter contract in ``make test``); the domain plugs in where infrastructure
needs it (the event codec of the bus)."""
