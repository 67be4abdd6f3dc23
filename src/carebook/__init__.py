"""Carebook: a self-hostable patient management service with a Healthie-compatible GraphQL API."""

__version__ = "0.1.0"
