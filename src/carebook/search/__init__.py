"""Keyword search over patients: a token table kept in step with every write (docs/search.md)."""
