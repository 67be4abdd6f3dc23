"""The audit trail: who read or changed which patient record, when, from where, and if allowed."""
