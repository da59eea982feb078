"""Facebook Messenger: webhook, Graph API client, replies, receipts and attachments, handover."""
