"""The audit trail in the API: recording reads and writes, and the auditEvents query."""
