"""Email: the transactional outbox (delivery after commit comes with the SMTP worker)."""
