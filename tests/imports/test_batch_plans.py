"""How PostgreSQL plans an import batch: custom plans for its reads, none forced on its writes.

A batch's INSERTs check each row's foreign keys with a query the server prepares once and
reruns per row; under ``force_custom_plan`` it is planned again for every row (3.5 times the
cost of the blocking keys' INSERT). The look-ups and the duplicate check, which choose among
plans, keep custom plans.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from tests.imports.support import import_file, write_csv
from tests.support.world import World

from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.imports import service
from carebook.imports.records import PatientRecord
from carebook.imports.service import ImportOptions

_SHOW = text("SHOW plan_cache_mode")


@pytest.mark.only_on("postgresql", reason="plan_cache_mode is PostgreSQL's; SQLite caches no plan")
async def test_a_batch_writes_with_the_sessions_plans_and_checks_with_custom_ones(
    database: Database,
    passwords: Passwords,
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[str, str]] = []
    write_batch = service.write_batch

    def watched_write(connection: Connection, *args: Any) -> None:
        seen.append(("writes", str(connection.execute(_SHOW).scalar_one())))
        write_batch(connection, *args)

    async def check(session: AsyncSession, _: Sequence[tuple[int, PatientRecord]]) -> list[str]:
        seen.append(("check", str((await session.execute(_SHOW)).scalar_one())))
        return []

    monkeypatch.setattr(service, "write_batch", watched_write)
    rows = [("Pat", f"Plan{n}", f"plan{n}@example.com", "1990-01-01", "", "", "") for n in range(3)]
    options = ImportOptions(world.a.provider.user_id, on_batch=check)
    summary, report = await import_file(
        database,
        passwords,
        write_csv(tmp_path / "p.csv", rows),
        world.a.provider.organization_id,
        options=options,
        batch_size=2,
    )
    assert (summary.created, report) == (3, [])
    # The connection's own setting ("auto" unless the engine was made with custom plans).
    assert seen == [("writes", "auto"), ("check", "force_custom_plan")] * 2
