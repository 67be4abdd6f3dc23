"""``carebook import patients``: patients from a CSV or NDJSON file (docs/import.md)."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from carebook.auth.passwords import Passwords
from carebook.cli.common import Sessions, in_transactions, load_settings
from carebook.config import Settings
from carebook.imports.columns import FileProblem, load_map
from carebook.imports.duplicates import duplicate_notes
from carebook.imports.reader import open_source
from carebook.imports.run import Plan, ReportLine, Summary, run_import
from carebook.imports.service import ImportOptions
from carebook.users.activation import Invitations

app = typer.Typer(help="Bring records in from files.")
# Exit code of an import that finished with rows reported (the others went in).
ROWS_REPORTED = 3


@app.callback()
def main() -> None:
    """Bring records in from files."""


@app.command("patients")
def patients(
    file: Path = typer.Argument(..., help="A CSV file with a header row, or NDJSON."),
    organization_id: int = typer.Option(..., help="The organization the patients join."),
    map_file: Path | None = typer.Option(
        None, "--map", help='A JSON object {"Their header": "healthie_field"} for other headers.'
    ),
    format: str | None = typer.Option(
        None, help="csv or ndjson (default: from the extension, .ndjson/.jsonl, else csv)."
    ),
    encoding: str = typer.Option("utf-8-sig", help="The file's encoding (UTF-8 by default)."),
    report: Path | None = typer.Option(
        None,
        help="Where the per-row problems go (CSV: row, field, message); default FILE.errors.csv.",
    ),
    provider_id: int | None = typer.Option(
        None, help="Primary provider of new patients whose row names none (default: the first)."
    ),
    send_welcome: bool = typer.Option(
        False, "--send-welcome", help="Send new patients the welcome email (off by default)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check every row as a real run would, and write nothing."
    ),
    batch_size: int = typer.Option(1000, min=1, max=10_000, help="Rows per transaction."),
    database_url: str | None = typer.Option(None, help="Overrides CAREBOOK_DATABASE_URL."),
) -> None:
    """Create or update patients from a file; rows already imported are updated."""
    settings = load_settings(database_url)
    report_path = report or file.with_name(file.name + ".errors.csv")
    console = Console(stderr=True)
    try:
        source = open_source(file, format=format, encoding=encoding, mapping=load_map(map_file))
    except FileProblem as problem:
        _fail(str(problem))
    invitations = Invitations.from_settings(settings) if send_welcome else None
    plan = Plan(
        source,
        organization_id,
        provider_id,
        # Every batch's patients are checked for duplicates, as a creation is (docs/import.md).
        ImportOptions(
            0, send_welcome=send_welcome, invitations=invitations, on_batch=duplicate_notes
        ),
        dry_run=dry_run,
        batch_size=batch_size,
    )
    with _private(report_path) as out, _bar(console) as bar:
        task = bar.add_task("dry run" if dry_run else "importing", total=source.total)
        summary = _run(settings, plan, out, lambda done: bar.advance(task, done))
    _print_summary(summary, report_path, dry_run)
    if summary.stopped:
        raise typer.Exit(code=1)
    if summary.failed_rows:
        raise typer.Exit(code=ROWS_REPORTED)


def _private(path: Path) -> TextIO:
    """The report, readable by its owner only: its messages may quote a row's values (an email,
    a phone number), as createClient's do."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as error:
        _fail(f"cannot write the report {path}: {error.strerror}")
    os.fchmod(descriptor, 0o600)  # an existing report keeps its mode through O_CREAT
    return open(descriptor, "w", encoding="utf-8", newline="")  # the caller closes it


def _bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def _run(settings: Settings, plan: Plan, out: TextIO, advance: Callable[[int], None]) -> Summary:
    writer = csv.writer(out)
    writer.writerow(("row", "field", "message"))

    def report(lines: Sequence[ReportLine]) -> None:
        writer.writerows(lines)

    async def work(sessions: Sessions) -> Summary:
        return await run_import(
            plan,
            sessions,
            Passwords(settings),
            report=report,
            progress=advance,
        )

    try:
        return in_transactions(settings, work, command="import patients")
    except FileProblem as problem:
        _fail(str(problem))


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message} (nothing was written)", err=True)
    raise typer.Exit(code=1)


def _print_summary(summary: Summary, report_path: Path, dry_run: bool) -> None:
    verb = "would be" if dry_run else "were"
    typer.echo(
        f"{summary.rows} rows read: {summary.created} patients {verb} created, "
        f"{summary.updated} rows {verb} updates of existing patients, "
        f"{summary.failed_rows} rows not imported."
    )
    if dry_run:
        typer.echo("Dry run: nothing was written.")
    elif summary.batches:
        typer.echo(f"Every row up to row {summary.settled_through} is settled (in, or reported).")
    if summary.failed_rows:
        typer.echo(f"The problems of each row are in {report_path}.")
    for note in summary.notes:
        typer.echo(note)
    if summary.stopped:
        typer.echo(f"error: {summary.stopped}", err=True)
