"""Persistence: engine, base model, portable column types, migrations."""
