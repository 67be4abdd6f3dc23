"""SQLite backups through SQLite's online backup API (``carebook db backup`` / ``restore``).

PostgreSQL is backed up with its own tools, pg_dump and pg_restore (docs/production.md,
"Backups"): nothing here speaks to it.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """A backup or restore that was refused; the message says why, for an operator."""


def sqlite_path(database_url: str) -> Path:
    """The file of a SQLite database URL; other databases and in-memory ones are refused."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite"):
        raise BackupError(
            "carebook db backup/restore are for SQLite; back up PostgreSQL with pg_dump "
            "(docs/production.md, Backups)"
        )
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has no file to back up")
    return Path(url.database)


def _check_integrity(connection: sqlite3.Connection, what: str) -> None:
    rows = connection.execute("PRAGMA integrity_check").fetchall()
    if rows != [("ok",)]:
        raise BackupError(f"{what} fails PRAGMA integrity_check ({len(rows)} problems)")


def backup(database_url: str, target: Path) -> None:
    """Copy the live database into ``target``, a new file, consistent as of one moment.

    The copy runs in one step of the backup API, inside one read transaction of the source: in
    WAL mode writers go on meanwhile, and the copy holds every transaction committed before it
    began and none after. It is written beside ``target`` and renamed into place once it passes
    ``PRAGMA integrity_check``, so a failed backup never leaves a half-written file there.
    """
    source_path = sqlite_path(database_url)
    if not source_path.is_file():
        raise BackupError(f"no database file at {source_path}")
    if target.exists():
        raise BackupError(f"{target} exists; a backup never overwrites a file")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(source_path)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # pages=-1: everything in one step, one snapshot
            # One self-contained file (no -wal beside it), readable from read-only media; the
            # server turns WAL back on when it opens a restored database (carebook.db.hooks).
            copy.execute("PRAGMA journal_mode=DELETE")
            _check_integrity(copy, "the copy")
        finally:
            copy.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    os.replace(partial, target)


def restore(backup_file: Path, database_url: str) -> None:
    """Replace the configured database's contents with ``backup_file``'s.

    Refused while any other connection has the database open (a running server, a command):
    the target is locked exclusively first, which fails at once if anyone holds it, and stays
    locked until the copy is written, so no server can start on a half-restored file.
    """
    target_path = sqlite_path(database_url)
    if not backup_file.is_file():
        raise BackupError(f"no backup file at {backup_file}")
    source = sqlite3.connect(f"{backup_file.resolve().as_uri()}?mode=ro", uri=True)
    try:
        _check_integrity(source, "the backup")
        target = sqlite3.connect(target_path, timeout=0, isolation_level=None)
        try:
            _lock_exclusively(target, target_path)
            source.backup(target)
            _check_integrity(target, "the restored database")
        finally:
            target.close()
    finally:
        source.close()


def _lock_exclusively(target: sqlite3.Connection, path: Path) -> None:
    # In exclusive locking mode the lock taken by this transaction outlives it: held until the
    # connection closes, after the copy.
    target.execute("PRAGMA locking_mode=EXCLUSIVE")
    try:
        target.execute("BEGIN EXCLUSIVE")
        target.execute("COMMIT")
    except sqlite3.OperationalError as error:
        raise BackupError(
            f"{path} is in use (is a server running on it?); stop it before restoring"
        ) from error
