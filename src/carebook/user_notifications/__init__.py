"""In-app notifications for providers (the email outbox is carebook.notifications)."""
