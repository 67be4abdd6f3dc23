"""The change feed (changeEvents) and redeliverWebhookEvent: Carebook additions."""
