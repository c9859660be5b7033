"""fieldvault notification: Inbox, email, SMS and signed partner webhooks."""
