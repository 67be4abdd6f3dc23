"""The session class of every Carebook session, on which ORM event hooks hang.

Hooks registered on SQLAlchemy's global ``Session`` class fire for every session in the process,
a tool's or a library's as well as Carebook's, and cannot be told apart or removed per
application. Every sessionmaker of :class:`carebook.db.engine.Database` makes its sessions with
this class instead, and domain modules that need an ORM hook (the search index, the API key
cache, the audit trail's append-only guard) register it here when they are imported.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session


class CarebookSession(Session):
    """The synchronous session under every Carebook ``AsyncSession``: the hooks' owner."""


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine`` whose ORM events are Carebook's hooks (objects stay loaded after
    a commit: requests read what they wrote without another SELECT)."""
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=CarebookSession)
