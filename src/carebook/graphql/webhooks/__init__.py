"""Webhooks: managing them and sending a test event."""
