"""Helpers shared by the commands: settings, and running async code against the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

# Every table and the ORM hooks that keep tables in step (search tokens, blocking keys): a
# command imports only its own modules (cli/main.py), and without the whole registry a foreign
# key's column type stays unresolved and a write would skip the index hooks.
import carebook.tables  # noqa: F401
from carebook.audit.trail import CLI, command_origin, open_trail
from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.startup import UnsafeSettings, check_payment_provider, check_secret_key

T = TypeVar("T")


def load_settings(database_url: str | None = None) -> Settings:
    """Settings from the environment, with a command-line database URL taking precedence.

    In production mode, a command exits (code 1) when the secret key is the default or blank:
    commands sign set-password links (``outbox deliver``) and serve with it, and they would
    work for anyone who knows the default (carebook.startup); likewise with the test payment
    provider, which accepts any card. Elsewhere the server warns about the key. Settings the
    environment gives that are not valid end the command (code 1) with their messages, and so
    does a ``database_url`` that they refuse (SQLite with CAREBOOK_DATABASE_READ_URL).
    """
    try:
        settings = Settings()
    except ValidationError as error:
        # Each problem's message only: the rejected value can be a URL with a password.
        for problem in error.errors():
            name = "_".join(str(part) for part in problem["loc"]).upper()
            where = f"CAREBOOK_{name}: " if name else ""
            typer.echo(f"error: {where}{problem['msg']}", err=True)
        raise typer.Exit(code=1) from None
    if database_url:
        # model_copy runs no validator: the read URL's rule is checked again here, so a command
        # given a SQLite URL with CAREBOOK_DATABASE_READ_URL set ends with its message.
        settings = settings.model_copy(update={"database_url": database_url})
        if settings.read_url_problem is not None:
            typer.echo(f"error: {settings.read_url_problem}", err=True)
            raise typer.Exit(code=1)
    if settings.production:
        try:
            check_secret_key(settings)
            check_payment_provider(settings)
        except UnsafeSettings as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(code=1) from None
    return settings


def in_transaction(
    settings: Settings, work: Callable[[AsyncSession], Awaitable[T]], *, command: str
) -> T:
    """Run ``work`` in one committed write transaction and return its result.

    ``command`` names the command in the audit trail: the events of patient records it writes
    are recorded under the operation ``cli:<command>``, credential ``cli`` and no address.
    """

    async def run() -> T:
        database = create_database(settings)
        try:
            async with database.write_sessions() as session, session.begin():
                open_trail(session, command_origin(), f"{CLI}:{command}")
                return await work(session)
        finally:
            await database.dispose()

    return asyncio.run(run())


# Opens a write session whose events are the command's; the caller begins and ends transactions.
Sessions = Callable[[], AbstractAsyncContextManager[AsyncSession]]


def in_transactions(
    settings: Settings, work: Callable[[Sessions], Awaitable[T]], *, command: str
) -> T:
    """Run ``work``, which opens as many write transactions as it needs (a long command that
    commits in batches), all under one audit origin: one run is one request id in the trail."""

    async def run() -> T:
        database = create_database(settings)
        origin = command_origin()

        @asynccontextmanager
        async def sessions() -> AsyncIterator[AsyncSession]:
            async with database.write_sessions() as session:
                open_trail(session, origin, f"{CLI}:{command}")
                yield session

        try:
            return await work(sessions)
        finally:
            await database.dispose()

    return asyncio.run(run())
