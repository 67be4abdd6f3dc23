"""Abuse limits: on GraphQL documents (depth, aliases, tokens, cost) and on sign-in/sign-up."""
