"""GraphQL layer of locations."""
