"""Date-times on the wire are written as Healthie writes them, in the reader's time zone.

``yyyy-MM-dd HH:mm:ss ±hhmm`` in the viewer's zone, else their organization's, else UTC
(carebook/times.py); inputs take that form and ISO 8601; ``dob`` stays a date.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from tests.support.api import Api
from tests.support.scheduling import CREATE_APPOINTMENT, create_type
from tests.support.world import PATIENT_PASSWORD, World

from carebook import times
from carebook.db.engine import Database
from carebook.organizations.models import Organization
from carebook.organizations.service import set_timezone
from carebook.scheduling.models import Appointment
from carebook.users.models import User

HEALTHIE_FORM = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}$")
USER = "query($id: ID) { user(id: $id) { id created_at updated_at dob } }"
USERS = "query { users(should_paginate: false) { id created_at } }"
SIGN_IN = """mutation($email: String, $password: String) {
  signIn(input: {email: $email, password: $password}) {
    user { id created_at } messages { field } } }"""
CREATE_TAG = """mutation($name: String) {
  createTag(input: {name: $name}) { tag { id created_at } messages { field message } } }"""


async def _set_user_zone(database: Database, user_id: int, zone: str | None) -> None:
    async with database.write_sessions() as session, session.begin():
        user = await session.get(User, user_id)
        assert user is not None
        user.timezone = zone


async def _set_org_zone(database: Database, user_id: int, zone: str) -> None:
    async with database.write_sessions() as session, session.begin():
        user = await session.get(User, user_id)
        assert user is not None
        assert await set_timezone(session, user.organization_id, zone) == zone


async def _created_at(database: Database, user_id: int) -> datetime:
    async with database.read_sessions() as session:
        value = (await session.execute(select(User.created_at).where(User.id == user_id))).scalar()
    assert value is not None
    return value


def _in(zone: str, value: datetime) -> str:
    """``value`` written by hand the way Healthie does, in ``zone``."""
    local = value.astimezone(ZoneInfo(zone))
    offset = local.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{local:%Y-%m-%d %H:%M:%S} {sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


# The serializer and the parser themselves.


@pytest.mark.parametrize(
    ("instant", "zone", "written"),
    [
        (datetime(2023, 6, 5, 12, 10, tzinfo=UTC), "Europe/Berlin", "2023-06-05 14:10:00 +0200"),
        (datetime(2023, 1, 5, 12, 10, tzinfo=UTC), "Europe/Berlin", "2023-01-05 13:10:00 +0100"),
        # The night New York's clocks go forward (2023-03-12 02:00 -> 03:00): an hour apart,
        # the offset changes with the wall clock.
        (datetime(2023, 3, 12, 6, 30, tzinfo=UTC), "America/New_York", "2023-03-12 01:30:00 -0500"),
        (datetime(2023, 3, 12, 7, 30, tzinfo=UTC), "America/New_York", "2023-03-12 03:30:00 -0400"),
        (datetime(2023, 6, 5, 12, 10, 5, 999_999, tzinfo=UTC), None, "2023-06-05 12:10:05 +0000"),
        (datetime(2023, 6, 5, 12, 10, tzinfo=UTC), "Asia/Kolkata", "2023-06-05 17:40:00 +0530"),
        # A naive value is UTC, the database's convention.
        (datetime(2023, 6, 5, 12, 10), "Europe/Berlin", "2023-06-05 14:10:00 +0200"),
    ],
)
def test_render_writes_healthies_form_in_the_zone(
    instant: datetime, zone: str | None, written: str
) -> None:
    assert times.render(instant, times.zone_of(zone)) == written


def test_zone_of_takes_the_first_known_zone_else_utc() -> None:
    assert times.zone_of(None, "Europe/Berlin") == ZoneInfo("Europe/Berlin")
    assert times.zone_of("America/Chicago", "Europe/Berlin") == ZoneInfo("America/Chicago")
    assert times.zone_of("Not/AZone", "", None) is UTC


@pytest.mark.parametrize(
    "text",
    [
        "2023-06-05 14:10:00 +0200",
        "2023-06-05 14:10:00 +02:00",
        "2023-06-05T14:10:00+02:00",
        "2023-06-05T12:10:00Z",
        "2023-06-05T14:10:00.000+0200",
        " 2023-06-05 08:10:00 -0400 ",
        "2023-06-05 8:10:00 -0400",  # a one-digit hour, as some clients write it
    ],
)
def test_parse_reads_healthies_form_and_iso_8601(text: str) -> None:
    assert times.parse(text) == datetime(2023, 6, 5, 12, 10, tzinfo=UTC)


def test_parse_leaves_a_time_without_offset_to_the_caller() -> None:
    assert times.parse("2023-06-05 14:10:00") == datetime(2023, 6, 5, 14, 10)


@pytest.mark.parametrize("text", ["soon", "2023-13-05 10:00:00 +0200", "05/06/2023 10:00", ""])
def test_parse_refuses_garbage_with_a_message(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"is not a date and time ({times.EXAMPLES})")):
        times.parse(text)


def test_graphql_writes_date_times_only_through_the_one_serializer() -> None:
    """A per-type copy (``.isoformat()``, ``strftime``) would write ISO 8601 again, in no zone."""
    graphql = Path(times.__file__).parent / "graphql"
    copies = [
        f"{path.relative_to(graphql)}:{number}"
        for path in sorted(graphql.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\.isoformat\(|strftime\(|local_iso", line) and "row.dob" not in line
    ]
    assert copies == []


# On the wire.


async def test_a_viewer_with_a_zone_reads_date_times_in_it(
    api: Api, world: World, database: Database
) -> None:
    await _set_user_zone(database, world.a.provider.user_id, "Asia/Kolkata")
    await _set_org_zone(database, world.a.provider.user_id, "America/New_York")
    provider = api.with_key(world.a.provider.api_key)
    user = (await provider.data(USER, {"id": str(world.a.patient_id)}))["user"]
    created = await _created_at(database, world.a.patient_id)
    assert user["created_at"] == _in("Asia/Kolkata", created)
    assert user["created_at"].endswith(" +0530")
    assert HEALTHIE_FORM.match(user["updated_at"])
    # Every row of a list, in the same zone.
    listed = (await provider.data(USERS))["users"]
    assert listed and all(row["created_at"].endswith(" +0530") for row in listed)


async def test_a_viewer_without_a_zone_reads_their_organizations(
    api: Api, world: World, database: Database
) -> None:
    await _set_org_zone(database, world.a.provider.user_id, "Asia/Tokyo")
    provider = api.with_key(world.a.provider.api_key)
    user = (await provider.data(USER, {"id": str(world.a.patient_id)}))["user"]
    created = await _created_at(database, world.a.patient_id)
    assert user["created_at"] == _in("Asia/Tokyo", created)
    assert user["created_at"].endswith(" +0900")
    # Organization B has no zone: its provider reads UTC.
    other = api.with_key(world.b.provider.api_key)
    seen = (await other.data(USER, {"id": str(world.b.patient_id)}))["user"]
    assert seen["created_at"] == _in("UTC", await _created_at(database, world.b.patient_id))
    assert seen["created_at"].endswith(" +0000")


async def test_without_any_zone_date_times_are_utc_and_dob_stays_a_date(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    await provider.data(
        'mutation($id: ID) { updateClient(input: {id: $id, dob: "1990-04-03"}) '
        "{ user { id } messages { field } } }",
        {"id": str(world.a.patient_id)},
    )
    user = (await provider.data(USER, {"id": str(world.a.patient_id)}))["user"]
    assert user["created_at"] == _in("UTC", await _created_at(database, world.a.patient_id))
    assert user["dob"] == "1990-04-03"


async def test_a_session_and_a_sign_in_read_as_the_patient_in_their_zone(
    api: Api, world: World, database: Database
) -> None:
    await _set_user_zone(database, world.a.patient_id, "America/Sao_Paulo")
    created = await _created_at(database, world.a.patient_id)
    patient = api.with_token(world.a.patient_token)
    own = (await patient.data(USER, {"id": str(world.a.patient_id)}))["user"]
    assert own["created_at"] == _in("America/Sao_Paulo", created)
    # signIn is anonymous; its answer is the signed-in patient's, in their zone.
    signed_in = await api.data(
        SIGN_IN, {"email": "patient.a@example.com", "password": PATIENT_PASSWORD}
    )
    assert signed_in["signIn"]["user"]["created_at"] == _in("America/Sao_Paulo", created)


async def test_appointments_take_both_forms_and_answer_in_the_readers_zone(
    api: Api, world: World, database: Database
) -> None:
    await _set_user_zone(database, world.a.provider.user_id, "America/New_York")
    provider = api.with_key(world.a.provider.api_key)
    type_id = await create_type(provider)

    async def book(when: str) -> dict[str, Any]:
        variables = {"user_id": str(world.a.patient_id), "type": type_id, "datetime": when}
        payload: dict[str, Any] = (await provider.data(CREATE_APPOINTMENT, variables))[
            "createAppointment"
        ]
        return payload

    # Winter in Healthie's form, summer in ISO 8601: the same wall clock, DST's two offsets.
    winter = await book("2031-01-15 10:00:00 -0500")
    summer = await book("2031-07-15T14:00:00Z")
    assert winter["messages"] is None and summer["messages"] is None
    assert winter["appointment"]["date"] == "2031-01-15 10:00:00 -0500"
    assert winter["appointment"]["end"] == "2031-01-15 11:00:00 -0500"
    assert winter["appointment"]["timezone_abbr"] == "EST"
    assert summer["appointment"]["start"] == "2031-07-15 10:00:00 -0400"
    assert summer["appointment"]["timezone_abbr"] == "EDT"
    # The patient (no zone; organization without one) reads the same instants in UTC.
    patient = api.with_token(world.a.patient_token)
    mine = await patient.data("query { appointments(should_paginate: false) { id date } }")
    dates = sorted(row["date"] for row in mine["appointments"])
    assert dates == ["2031-01-15 15:00:00 +0000", "2031-07-15 14:00:00 +0000"]


async def test_a_garbage_date_time_is_a_message_and_books_nothing(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    type_id = await create_type(provider)
    variables = {"user_id": str(world.a.patient_id), "type": type_id, "datetime": "next tuesday"}
    payload = (await provider.data(CREATE_APPOINTMENT, variables))["createAppointment"]
    assert payload["appointment"] is None
    assert payload["messages"] == [
        {
            "field": "datetime",
            "message": "'next tuesday' is not a date and time "
            "(e.g. 2023-06-05 14:10:00 +0200 or 2023-06-05T14:10:00+02:00)",
        }
    ]
    async with database.read_sessions() as session:
        assert (await session.execute(select(Appointment.id))).first() is None


async def test_audit_filters_take_both_forms_read_a_bare_time_in_the_readers_zone(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    await provider.data(USER, {"id": str(world.a.patient_id)})  # one read event
    query = "query($since: String) { auditEventsCount(since: $since) }"
    for since in ("2000-01-01 00:00:00 +0000", "2000-01-01T00:00:00Z"):
        assert (await provider.data(query, {"since": since}))["auditEventsCount"] == 1
    # A minute from now on UTC's wall clock, without an offset: in UTC it is still to come,
    # in Kiritimati (UTC+14) it was fourteen hours ago.
    bare = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S")
    assert (await provider.data(query, {"since": bare}))["auditEventsCount"] == 0
    await _set_user_zone(database, world.a.provider.user_id, "Pacific/Kiritimati")
    assert (await provider.data(query, {"since": bare}))["auditEventsCount"] == 1
    body = await provider.post(query, {"since": "yesterday"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["message"].startswith("since: 'yesterday' is not a date and time")


async def test_an_organization_zone_is_checked_and_can_be_cleared(
    world: World, database: Database
) -> None:
    async with database.write_sessions() as session, session.begin():
        user = await session.get(User, world.a.provider.user_id)
        assert user is not None
        with pytest.raises(Exception, match="'Mars/Olympus' is not a known time zone"):
            await set_timezone(session, user.organization_id, "Mars/Olympus")
        assert await set_timezone(session, user.organization_id, "Europe/Paris") == "Europe/Paris"
        assert await set_timezone(session, user.organization_id, None) == "Europe/Paris"
        assert await set_timezone(session, user.organization_id, "") is None
        organization = await session.get(Organization, user.organization_id)
        assert organization is not None and organization.timezone is None


def _zone_command(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CAREBOOK_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "carebook.cli.main", "organization", "timezone", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


async def test_the_command_line_sets_the_organizations_zone(
    api: Api, world: World, database: Database, database_url: str
) -> None:
    org = str(world.a.provider.organization_id)
    refused = _zone_command(database_url, org, "Mars/Olympus")
    assert refused.returncode == 1
    assert "'Mars/Olympus' is not a known time zone" in refused.stderr
    done = _zone_command(database_url, org, "Europe/Rome")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"organization {org}: time zone Europe/Rome"
    provider = api.with_key(world.a.provider.api_key)
    user = (await provider.data(USER, {"id": str(world.a.patient_id)}))["user"]
    assert user["created_at"] == _in("Europe/Rome", await _created_at(database, world.a.patient_id))


# messages: null when there is nothing to say, a list when there is.


async def test_messages_are_null_on_success_and_a_list_on_failure(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    made = (await provider.data(CREATE_TAG, {"name": "VIP"}))["createTag"]
    assert made["messages"] is None and made["tag"]["id"]
    assert HEALTHIE_FORM.match(made["tag"]["created_at"])
    refused = (await provider.data(CREATE_TAG, {"name": "  "}))["createTag"]
    assert refused["tag"] is None
    assert isinstance(refused["messages"], list) and refused["messages"][0]["message"]
