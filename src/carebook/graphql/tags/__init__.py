"""GraphQL layer of tags."""
