"""How common a name is weighs: a date of birth alone tells namesakes apart only for names few
patients of the organization share (duplicates/matcher.py's NAMESAKES_ALLOWED, counted by the
name tallies of duplicates/keys.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import insert, select

from carebook.auth.roles import Role
from carebook.db.engine import Database
from carebook.duplicates import service
from carebook.duplicates.keys import tally_of
from carebook.duplicates.matcher import NAMESAKES_ALLOWED, Person, compare
from carebook.duplicates.models import NameKey
from carebook.users.models import User
from tests.duplicates.test_api import CANDIDATES, _create, _warnings
from tests.support.api import Api
from tests.support.merges import merge, unmerge
from tests.support.world import Org, World

# One more John Smith than a date of birth one digit off tolerates, once the new one joins.
NAMESAKES = NAMESAKES_ALLOWED["digit"]
JOHN = {"first_name": "John", "last_name": "Smith", "dont_send_welcome": True}


def _pair(**facts: Any) -> tuple[Person, Person]:
    """Two John Smiths born a digit apart, nothing else in common but ``facts``."""
    one = Person(1, "John", "Smith", date(1980, 3, 14), **facts)
    return one, Person(2, "John", "Smith", date(1980, 3, 15), **facts)


def test_a_date_of_birth_alone_tells_rare_namesakes_apart_not_common_ones() -> None:
    rare = compare(*_pair(namesakes=2))
    assert rare is not None and rare.reasons[0] == "date of birth one digit off"

    assert compare(*_pair(namesakes=NAMESAKES_ALLOWED["digit"] + 1)) is None
    # A second identifier that agrees still makes common namesakes a pair.
    corroborated = compare(*_pair(namesakes=500, phone="+15554442244"))
    assert corroborated is not None
    assert corroborated.reasons[:2] == ("date of birth one digit off", "same phone number")


def test_each_kind_of_birthday_agreement_tolerates_its_own_number_of_namesakes() -> None:
    one = Person(1, "Ana", "Kim", date(1980, 3, 4))
    for dob, kind in ((date(1980, 3, 4), "same"), (date(1980, 4, 3), "swapped")):
        allowed = NAMESAKES_ALLOWED[kind]
        assert compare(one, Person(2, "Ana", "Kim", dob, namesakes=allowed)) is not None
        assert compare(one, Person(2, "Ana", "Kim", dob, namesakes=allowed + 1)) is None
    # The more common of the two records' names counts: a misspelt copy of a common name is
    # rare itself, but its strangers are the common name's.
    common = replace(one, namesakes=NAMESAKES_ALLOWED["same"] + 1)
    assert compare(common, Person(2, "Ana", "Kym", date(1980, 3, 4))) is None
    assert compare(one, Person(2, "Ana", "Kym", date(1980, 3, 4))) is not None


async def _insert_namesakes(database: Database, org: Org) -> None:
    """John Smiths born years apart (no two a typo apart), keyed as after a bulk load."""
    rows = [
        {
            "organization_id": org.provider.organization_id,
            "role": Role.PATIENT,
            "first_name": "John",
            "last_name": "Smith",
            "dob": date(1940 + 3 * n, n % 9 + 1, 10 + n),
            "dietitian_id": org.provider.user_id,
        }
        for n in range(NAMESAKES)
    ]
    rows.append(
        rows[0] | {"first_name": "Xavier", "last_name": "Quennell", "dob": date(1975, 6, 21)}
    )
    async with database.write_sessions() as session, session.begin():
        await session.execute(insert(User), rows)
        await service.reindex_organization(session, org.provider.organization_id)


async def test_a_common_name_a_digit_off_is_not_flagged_a_rare_one_is(
    api: Api, world: World, database: Database
) -> None:
    await _insert_namesakes(database, world.a)
    provider = api.with_key(world.a.provider.api_key)
    # Born a digit away from the first John Smith (1940-01-10), like a typo: with this many John
    # Smiths, as likely another one.
    john = await _create(provider, JOHN | {"dob": "1940-01-11", "email": "j2@example.com"})
    assert john["data"]["createClient"]["user"]["id"] and _warnings(john) == []

    xavier = await _create(
        provider,
        JOHN
        | {
            "first_name": "Xavier",
            "last_name": "Quennell",
            "dob": "1975-06-24",
            "email": "x@example.com",
        },
    )
    [warning] = _warnings(xavier)
    assert warning["message"].endswith(
        ": date of birth one digit off, same last name and same first name"
    )

    # The scan, which counts the tallies once for the organization, finds the same.
    async with database.write_sessions() as session, session.begin():
        assert await service.scan_organization(session, world.a.provider.organization_id) == 1
    [pair] = (await provider.data(CANDIDATES))["duplicateCandidates"]
    assert pair["user"]["first_name"] == "Xavier"


async def test_only_the_organization_s_own_patients_make_a_name_common(
    api: Api, world: World, database: Database
) -> None:
    await _insert_namesakes(database, world.b)
    provider = api.with_key(world.a.provider.api_key)
    await _create(provider, JOHN | {"dob": "1940-01-10", "email": "j1@example.com"})

    john = await _create(provider, JOHN | {"dob": "1940-01-11", "email": "j2@example.com"})

    [warning] = _warnings(john)
    assert "date of birth one digit off" in warning["message"]


async def _tallies(database: Database, organization_id: int) -> dict[int, int]:
    """The stored name tallies of an organization's patients, by patient."""
    async with database.read_sessions() as session:
        rows = await session.execute(
            select(NameKey.user_id, NameKey.key).where(NameKey.organization_id == organization_id)
        )
        return {user_id: key for user_id, key in rows}


async def _recounted(database: Database, organization_id: int) -> dict[int, int]:
    """The name tallies the organization's active patients have, worked out from their rows."""
    async with database.read_sessions() as session:
        rows = await session.execute(
            select(User.id, User.first_name, User.last_name).where(
                User.organization_id == organization_id,
                User.role == Role.PATIENT,
                User.active.is_(True),
            )
        )
        return {row.id: tally for row in rows if (tally := tally_of(row)) is not None}


async def test_the_name_tallies_follow_archives_merges_and_their_undoing(
    api: Api, world: World, database: Database
) -> None:
    org = world.a.provider.organization_id
    provider = api.with_key(world.a.provider.api_key)
    johns = [
        (await _create(provider, JOHN | {"dob": f"19{50 + n}-02-03", "email": f"j{n}@x.org"}))[
            "data"
        ]["createClient"]["user"]["id"]
        for n in range(4)
    ]
    john = tally_of(Person(0, "John", "Smith", None))
    assert list((await _tallies(database, org)).values()).count(john) == 4

    archived = await provider.data(
        "mutation($id: ID) { updateClient(input: {id: $id, active: false}) {"
        " messages { field message } } }",
        {"id": johns[0]},
    )
    assert archived["updateClient"]["messages"] is None
    assert (await merge(provider, ids=[johns[1]], target_user_id=johns[2]))["messages"] is None
    tallies = await _tallies(database, org)
    assert tallies == await _recounted(database, org)
    assert list(tallies.values()).count(john) == 2

    assert (await unmerge(provider, johns[1]))["messages"] is None
    tallies = await _tallies(database, org)
    assert tallies == await _recounted(database, org)
    assert list(tallies.values()).count(john) == 3
