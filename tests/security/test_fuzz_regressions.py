"""Faults the fuzzer found, each kept as a plain test so it cannot come back unnoticed."""

from __future__ import annotations

from carebook.db.engine import Database
from carebook.users.models import User
from tests.support import db
from tests.support.api import Api
from tests.support.world import World

LOCATIONS_COUNT = """query($k: String) { locationsCount(keywords: $k) }"""
CREATE_CLIENT = """mutation($f: String) {
  createClient(input: {first_name: $f, last_name: "Nul"}) { user { id } messages { message } } }"""


async def test_nul_in_a_literal_is_refused_on_both_databases(api: Api, world: World) -> None:
    # PostgreSQL cannot hold U+0000 in text: this used to be an INTERNAL_SERVER_ERROR there.
    provider = api.with_key(world.a.provider.api_key)
    body = await provider.post('{ locationsCount(keywords: "a\\u0000b") }')
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert "NUL" in body["errors"][0]["message"]


async def test_nul_in_a_variable_is_refused_and_writes_nothing(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    before = await db.count(database, User)
    codes = await provider.error_codes(CREATE_CLIENT, {"f": "Ann\x00"})
    assert codes == ["BAD_USER_INPUT"]
    assert await db.count(database, User) == before


async def test_other_escapes_still_pass(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    data = await provider.data(LOCATIONS_COUNT, {"k": "caf\u00e9"})
    assert data["locationsCount"] == 0
    data = await provider.data('{ locationsCount(keywords: "caf\\u00e9") }')
    assert data["locationsCount"] == 0


# str.isdigit() is true for '²', which int() refuses: ids, NPIs and numeric search
# terms checked that way ended in a ValueError, that is an INTERNAL_SERVER_ERROR.
TAGS_OF_USER = """query($u: String) { tags(user_id: $u) { id } }"""
USERS_BY_KEYWORD = """query($k: String) { users(keywords: $k) { id } }"""
CREATE_LOCATION = """mutation($input: createLocationInput) {
  createLocation(input: $input) { location { id } messages { field message } } }"""


async def test_a_superscript_digit_is_not_an_id(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    assert await provider.error_codes(TAGS_OF_USER, {"u": "1²"}) == ["BAD_USER_INPUT"]


async def test_a_superscript_digit_is_a_plain_search_term(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    assert (await provider.data(USERS_BY_KEYWORD, {"k": "²"}))["users"] == []


async def test_a_superscript_digit_is_not_part_of_an_npi(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    fields = {"name": "Home", "user_id": str(world.a.patient_id), "npi": "123456789²"}
    payload = (await provider.data(CREATE_LOCATION, {"input": fields}))["createLocation"]
    assert payload["location"] is None
    assert [m["field"] for m in payload["messages"]] == ["npi"]
