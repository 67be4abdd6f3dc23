"""The tables read by index-only scans are vacuumed early on PostgreSQL (migration 0012)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from carebook.db.engine import Database


@pytest.mark.only_on("postgresql", reason="SQLite has no visibility map and no autovacuum")
async def test_patient_and_search_tables_vacuum_after_two_percent_of_changes(
    database: Database,
) -> None:
    query = text(
        "SELECT relname, reloptions FROM pg_class WHERE relname IN ('users', 'search_tokens')"
    )
    async with database.read_sessions() as session:
        rows = {name: options for name, options in (await session.execute(query)).all()}
    for table in ("users", "search_tokens"):
        assert "autovacuum_vacuum_scale_factor=0.02" in rows[table]
        assert "autovacuum_vacuum_insert_scale_factor=0.02" in rows[table]
        assert "autovacuum_analyze_scale_factor=0.02" in rows[table]
