"""``carebook`` imports a subcommand's module only when that subcommand runs.

Many tests (and every operator's command) start ``carebook ...`` as a fresh process; importing
every subcommand, the application and the GraphQL schema cost each one ~1.5 s of CPU.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest
import typer

from carebook.cli.main import SUBCOMMANDS, LazyGroup, Subcommand, app

HEAVY = ("carebook.app", "carebook.graphql.schema", "carebook.cli.serve")


def _modules_after(*args: str) -> set[str]:
    """The modules a fresh ``carebook ARGS`` process holds when it exits."""
    program = (
        "import json, runpy, sys\n"
        f"sys.argv = ['carebook', *{list(args)!r}]\n"
        "try:\n"
        "    runpy.run_module('carebook.cli.main', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, check=True, text=True, timeout=120
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_the_top_level_help_imports_no_subcommand() -> None:
    loaded = _modules_after("--help")
    assert loaded.isdisjoint({*HEAVY, *(subcommand.module for subcommand in SUBCOMMANDS)})
    assert "typer" in loaded  # the probe ran the command line


def test_a_subcommand_imports_its_own_module_only() -> None:
    loaded = _modules_after("audit", "export", "--help")
    assert "carebook.cli.audit" in loaded
    others = {subcommand.module for subcommand in SUBCOMMANDS} - {"carebook.cli.audit"}
    assert loaded.isdisjoint({*HEAVY, *others})


def _group() -> LazyGroup:
    group = typer.main.get_group(app)
    assert isinstance(group, LazyGroup)
    return group


@pytest.mark.parametrize("subcommand", SUBCOMMANDS, ids=lambda subcommand: subcommand.name)
def test_each_summary_is_the_first_paragraph_of_the_commands_help(subcommand: Subcommand) -> None:
    # `carebook --help` shows the summary; typer would show this paragraph of the loaded help.
    group = _group()
    listed = group.commands[subcommand.name]
    group.load(subcommand.name)
    loaded = group.commands[subcommand.name]
    assert loaded is not listed
    assert loaded.help is not None
    assert listed.help == inspect.cleandoc(loaded.help).split("\n\n")[0]


def test_the_listing_keeps_typers_order_commands_then_groups() -> None:
    assert list(_group().commands) == [
        "serve", "demo", "schema", "db", "provider", "organization", "search", "duplicates",
        "outbox", "audit", "events", "import",
    ]  # fmt: skip


def test_a_subcommand_registers_every_table_and_its_hooks() -> None:
    # Without them a foreign key's type stays unresolved (search reindex failed on PostgreSQL)
    # and a write would skip the search index's and the blocking keys' flush hooks.
    loaded = _modules_after("search", "reindex", "--help")
    assert {"carebook.tables", "carebook.search.index", "carebook.duplicates.index"} <= loaded
