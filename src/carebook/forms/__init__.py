"""Requested form completions: a form asked of a patient, with a status (the reminder's subject)."""
