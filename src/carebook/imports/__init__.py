"""Bringing patients in from a file: ``carebook import patients`` (docs/import.md)."""
