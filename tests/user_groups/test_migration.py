"""Migration 0002 on a database that already holds groups: name keys are filled in, names that
clash ignoring case are made unique, and the migration goes down and up again."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from tests.support.migration import empty_url, execute

from carebook.db.migrate import alembic_config, upgrade_async

__all__ = ["empty_url"]  # the fixture, used by name


async def test_existing_groups_get_unique_case_folded_name_keys(empty_url: str) -> None:
    await upgrade_async(empty_url, "0001")
    await execute(
        empty_url,
        "INSERT INTO organizations (id, name, created_at, updated_at) "
        "VALUES (:id, :name, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        {"id": 1, "name": "A"},
        {"id": 2, "name": "B"},
    )
    await execute(
        empty_url,
        "INSERT INTO user_groups (id, organization_id, name, invite_code, created_at, updated_at) "
        "VALUES (:id, :org, :name, :code, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        *(
            {"id": gid, "org": org, "name": name, "code": f"code{gid}"}
            for gid, org, name in [
                (1, 1, "Alpha"),
                (2, 1, "ALPHA"),
                (3, 1, "Équipe"),
                (4, 1, "ÉQUIPE"),
                (5, 2, "alpha"),
            ]
        ),
    )
    await upgrade_async(empty_url)
    rows = await execute(empty_url, "SELECT id, name, name_key FROM user_groups ORDER BY id")
    assert rows == [
        (1, "Alpha", "alpha"),
        (2, "ALPHA (2)", "alpha (2)"),
        (3, "Équipe", "équipe"),
        (4, "ÉQUIPE (4)", "équipe (4)"),
        (5, "alpha", "alpha"),  # another organization may use the name
    ]


async def _schema(url: str) -> tuple[set[str], set[str]]:
    """The table names, and the columns of user_groups."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:

            def read(sync_connection: Connection) -> tuple[set[str], set[str]]:
                inspector = inspect(sync_connection)
                columns = {c["name"] for c in inspector.get_columns("user_groups")}
                return set(inspector.get_table_names()), columns

            return await connection.run_sync(read)
    finally:
        await engine.dispose()


async def test_migration_goes_down_and_up_again(empty_url: str) -> None:
    await upgrade_async(empty_url)
    upgraded = await _schema(empty_url)
    assert "onboarding_flows" in upgraded[0]
    assert {"name_key", "onboarding_flow_id"} <= upgraded[1]
    # Alembic's async environment runs its own event loop: call it from a thread.
    await asyncio.to_thread(command.downgrade, alembic_config(empty_url), "0002_user_groups-1")
    tables, columns = await _schema(empty_url)
    assert "onboarding_flows" not in tables
    assert not {"name_key", "onboarding_flow_id"} & columns
    await upgrade_async(empty_url)
    assert await _schema(empty_url) == upgraded
