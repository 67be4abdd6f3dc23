"""Users: providers, staff members and patients (Healthie's User object)."""
