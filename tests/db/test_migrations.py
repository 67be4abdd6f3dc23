"""The migrations build exactly the tables the models describe, on both databases."""

from alembic import command
from alembic.script import ScriptDirectory

from carebook.db.migrate import alembic_config


def test_models_and_migrations_agree(database_url: str) -> None:
    # Raises when autogenerate would find a difference between the models and the database.
    command.check(alembic_config(database_url))


def test_migrations_form_one_line() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
