"""``carebook db upgrade`` says which migrations it applied; "up to date" only when none."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from tests.cli.run import carebook
from tests.db.test_migrations import empty_database

from carebook.db.migrate import alembic_config, upgrade


def test_upgrade_names_the_migrations_it_applied(database_url: str, tmp_path: Path) -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    with empty_database(database_url, tmp_path) as url:
        upgrade(url, revisions[-3])
        done = carebook(url, "db", "upgrade")
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"applied 2 migrations: {revisions[-2]}, {revisions[-1]}"
        again = carebook(url, "db", "upgrade")
        assert again.returncode == 0, again.stderr
        assert "up to date" in again.stdout and "applied" not in again.stdout
