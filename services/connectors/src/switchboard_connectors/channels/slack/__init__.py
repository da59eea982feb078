"""Slack: Events API webhook, Web API client, replies, files, OAuth install, mirror threads."""
