"""Webhooks: managing them (createWebhook...), delivering events to them, and the change feed.

Above notifications (a failing webhook's warning is an email) and below the flows; the tables
and emitting events are carebook.events', low enough for every domain's service to emit.
"""
