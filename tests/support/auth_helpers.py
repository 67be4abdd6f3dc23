"""Helpers for authentication and visibility tests: rows behind the API, and raw headers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select, update

from carebook import builders
from carebook.accounts.staff import NewProvider
from carebook.auth.models import SessionToken
from carebook.auth.passwords import Passwords
from carebook.auth.tokens import digest
from carebook.db.base import Base, utcnow
from carebook.db.engine import Database
from carebook.user_groups.models import UserGroup
from carebook.users.models import User
from tests.support.api import Api

M = TypeVar("M", bound=Base)

CURRENT_USER = "query { currentUser { id } }"


def with_headers(api: Api, headers: dict[str, str]) -> Api:
    """The same client sending exactly these headers (e.g. a malformed Authorization)."""
    return Api(api.client, headers)


async def count_rows(database: Database, model: type[Base]) -> int:
    """How many rows the model's table holds."""
    async with database.read_sessions() as session:
        query = select(func.count()).select_from(model)
        return int((await session.execute(query)).scalar_one())


async def get_row(database: Database, model: type[M], row_id: int | str) -> M:
    """One row by primary key; fails the test when it is missing."""
    async with database.read_sessions() as session:
        return await session.get_one(model, int(row_id))


async def all_rows(database: Database, model: type[Base]) -> list[dict[str, Any]]:
    """Every row of a table as column name -> value."""
    table = model.__table__
    async with database.read_sessions() as session:
        result = await session.execute(select(table))
        return [dict(row._mapping) for row in result]


async def group_invite_code(database: Database, group_id: int) -> str:
    """The invite code stored on a user group."""
    return (await get_row(database, UserGroup, group_id)).invite_code


async def user_invite_code(database: Database, user_id: int) -> str:
    """The invite code stored on a provider or staff member."""
    code = (await get_row(database, User, user_id)).invite_code
    assert code
    return code


async def add_provider(
    database: Database, passwords: Passwords, *, organization_id: int, email: str
) -> NewProvider:
    """A further provider in an existing organization."""
    async with database.write_sessions() as session, session.begin():
        return await builders.provider(
            session,
            passwords,
            email=email,
            organization_id=organization_id,
            first_name="Second",
            last_name="Provider",
        )


async def set_password(
    database: Database, passwords: Passwords, user_id: int, password: str
) -> None:
    """Give a user a password to sign in with (world's providers have none)."""
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            update(User)
            .where(User.id == user_id)
            .values(password_hash=await passwords.hash(password))
        )


async def expire_session_token(database: Database, token: str) -> None:
    """Move a session token's expiry into the past."""
    async with database.write_sessions() as session, session.begin():
        result = await session.execute(
            update(SessionToken)
            .where(SessionToken.token_digest == digest(token))
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        assert result.rowcount == 1  # type: ignore[attr-defined]
