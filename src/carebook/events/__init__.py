"""Change events (the outbox of webhooks and the change feed) and the webhooks that receive them."""
