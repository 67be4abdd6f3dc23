"""GraphQL of requested form completions."""
