"""Inboxes: channel settings, encrypted secrets, bot configuration, Slack mirror threads."""
