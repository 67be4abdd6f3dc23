"""The command line a new user follows: demo, outbox, search reindex, db upgrade and recount,
schema."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import httpx
from sqlalchemy import func, select
from tests.cli.run import carebook

from carebook.app import create_app
from carebook.config import Settings
from carebook.db.engine import Database
from carebook.search.counters import ListBlock, UserCount
from carebook.search.models import SearchToken
from carebook.users.models import User


def _run(database_url: str, *args: str) -> str:
    done = carebook(database_url, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def _token_count(database: Database) -> int:
    async with database.read_sessions() as session:
        return int(
            (await session.execute(select(func.count()).select_from(SearchToken))).scalar_one()
        )


async def test_demo_prints_a_working_api_key(
    database_url: str, database: Database, settings: Settings
) -> None:
    out = _run(database_url, "demo", "--patients", "12")
    key = re.search(r"API key: (\S+)", out)
    assert key, out
    assert "CAREBOOK_PAYMENT_PROVIDER=test" in out  # how to try paid checkouts with the demo
    app = create_app(settings, database)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        response = await http.post(
            "/graphql",
            json={"query": "{ usersCount }"},
            headers={"Authorization": f"Basic {key.group(1)}", "AuthorizationSource": "API"},
        )
    assert response.json() == {"data": {"usersCount": 12}}


async def test_a_second_demo_run_reports_the_first_and_adds_nothing(
    database_url: str, database: Database, settings: Settings
) -> None:
    _run(database_url, "demo", "--patients", "3")
    again = _run(database_url, "demo", "--patients", "3")
    assert "already exists" in again, again
    key = re.search(r"API key: (\S+)", _run(database_url, "demo"))
    assert key
    async with database.read_sessions() as session:
        names = (await session.execute(select(User.first_name, User.last_name))).all()
    # Its own provider name: the README's example provider (Dana Reyes) stays free.
    assert ("Dana", "Reyes") not in names
    assert len(names) == 5  # two staff and three patients, once
    app = create_app(settings, database)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        response = await http.post(
            "/graphql",
            json={"query": "{ usersCount }"},
            headers={"Authorization": f"Basic {key.group(1)}", "AuthorizationSource": "API"},
        )
    assert response.json() == {"data": {"usersCount": 3}}  # the new key works


async def test_outbox_lists_queued_welcome_emails_without_patient_details(
    database_url: str, database: Database, settings: Settings
) -> None:
    created = json.loads(_run(database_url, "provider", "create", "--email", "out@example.com",
                              "--first-name", "O", "--last-name", "Box", "--json"))  # fmt: skip
    app = create_app(settings, database)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        await http.post(
            "/graphql",
            json={
                "query": 'mutation { createClient(input: {first_name: "Wel", last_name: "Come", '
                'email: "welcome.patient@example.com"}) { user { id } } }'
            },
            headers={"Authorization": f"Basic {created['api_key']}", "AuthorizationSource": "API"},
        )
    out = _run(database_url, "outbox")
    assert "welcome" in out and "pending" in out
    assert "welcome.patient" not in out and "Come" not in out


async def test_search_reindex_rebuilds_tokens(database_url: str, database: Database) -> None:
    _run(database_url, "demo", "--patients", "5")
    before = await _token_count(database)
    async with database.write_sessions() as session, session.begin():
        await session.execute(SearchToken.__table__.delete())
    assert await _token_count(database) == 0
    assert "reindexed 7 users" in _run(database_url, "search", "reindex")
    assert await _token_count(database) == before > 0


def test_schema_command_prints_the_sdl() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "carebook.cli.main", "schema"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "createClient(" in out and "type User" in out


async def test_db_recount_repairs_the_user_counters(database_url: str, database: Database) -> None:
    _run(database_url, "demo", "--patients", "5")
    async with database.read_sessions() as session:
        kept = (await session.execute(select(ListBlock.__table__))).all()
        assert kept
    async with database.write_sessions() as session, session.begin():
        # As a load with the triggers disabled would leave them: wrong, and missing.
        await session.execute(ListBlock.__table__.update().values(active_total=999))
        await session.execute(UserCount.__table__.delete())
    assert "user counters rebuilt" in _run(database_url, "db", "recount")
    async with database.read_sessions() as session:
        assert sorted((await session.execute(select(ListBlock.__table__))).all()) == sorted(kept)
        totals = await session.execute(select(func.sum(UserCount.total)))
        users = await session.execute(select(func.count()).select_from(User))
        assert totals.scalar_one() == users.scalar_one() > 0
