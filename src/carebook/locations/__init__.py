"""Locations: the addresses of patients and providers."""
