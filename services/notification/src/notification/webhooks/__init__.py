"""Partner webhooks: subscriptions, signed deliveries with retries, receiver URL rules."""
