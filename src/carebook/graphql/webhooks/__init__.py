"""GraphQL layer of webhooks: managing them and reading the log of sent webhooks."""
