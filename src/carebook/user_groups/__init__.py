"""User groups: how a practice organizes its patients (one group per patient)."""
