"""Duplicate detection in the API: the candidates list, their dismissal, creation-time checks."""
