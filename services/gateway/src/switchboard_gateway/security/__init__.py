"""Security features of the agent API: 2FA, sessions, API tokens, IP allowlist, security audit."""
