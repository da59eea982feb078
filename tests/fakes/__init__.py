"""Fake platform servers (Slack, Graph API, Google, S3, webhook receivers) speaking the real payload shapes."""
