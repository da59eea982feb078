"""The signed API channel: inbound webhook, callbacks out, a reference client."""
