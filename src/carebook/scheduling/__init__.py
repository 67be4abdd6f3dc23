"""Scheduling: appointment types, offerings and appointments."""
