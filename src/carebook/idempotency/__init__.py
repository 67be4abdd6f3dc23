"""Idempotency-Key for mutations: a retried request returns the first answer and writes nothing.

See docs/security.md (section "Concurrency, retries and Idempotency-Key") for the design.
"""
