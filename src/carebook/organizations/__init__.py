"""Organizations: the practice that owns providers, staff and patients."""
