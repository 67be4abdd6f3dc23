"""A database URL no connection can open, of the backend under test."""

from __future__ import annotations

from pathlib import Path


def unreachable_url(database_url: str, tmp_path: Path) -> str:
    """A URL of ``database_url``'s backend that fails to connect (a missing directory, a closed
    port)."""
    if database_url.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{tmp_path}/missing/carebook.db"
    return "postgresql+asyncpg://postgres@127.0.0.1:1/carebook"
