"""A request context without a request, for tests that call services and resolvers' helpers
directly (write(), Context.read, release)."""

from __future__ import annotations

from carebook.auth.passwords import Passwords
from carebook.config import Settings
from carebook.db.engine import Database
from carebook.graphql.context import Context
from carebook.search import SearchState


def context_without_request(
    settings: Settings, database: Database, passwords: Passwords | None = None
) -> Context:
    """A context as the app builds one, minus the HTTP request and response."""
    return Context(
        request=None,
        response=None,
        settings=settings,
        database=database,
        passwords=passwords or Passwords(settings),
        search=SearchState(),
    )
