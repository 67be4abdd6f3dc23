"""Email: the transactional outbox, templates, and SMTP delivery after commit."""
