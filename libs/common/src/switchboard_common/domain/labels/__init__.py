"""Labels: account-defined tags on conversations (set by agents, or by an inbox's routing rules)."""
