"""Tag.tagged_users reads only the rows it can answer with (issue 22 review, item 2).

A whole list reads one past the cap (it is refused past it); a page reads up to the largest page
end the request asks for.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from tests.limits.conftest import MakeApi
from tests.support.fetched_rows import fetched_rows
from tests.support.groups import add_patients
from tests.support.world import World

from carebook import builders
from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.tags import service as tags

PATIENTS = 14  # past a page (10) and past the cap the test sets (3)


def tagging_rows(database: Database) -> AbstractContextManager[list[int]]:
    """How many rows each statement reading taggings by name fetched from the database."""
    return fetched_rows(
        database, lambda statement: "taggings" in statement and "last_name" in statement
    )


async def _two_tags_on_many(database: Database, passwords: Passwords, world: World) -> list[int]:
    ids = await add_patients(database, passwords, world.a, PATIENTS, tag="tagged")
    actor = builders.actor_of(world.a.provider)
    async with database.write_sessions() as session, session.begin():
        made = [await tags.create_tag(session, actor=actor, name=n) for n in ("Many", "More")]
        for patient_id in ids:
            await tags.bulk_apply(
                session,
                actor=actor,
                ids=[tag.id for tag in made],
                taggable_user_id=patient_id,
                max_ids=2,
            )
    return [tag.id for tag in made]


async def test_tagged_users_reads_a_page_or_one_past_the_cap(
    api_with: MakeApi, world: World, database: Database, passwords: Passwords
) -> None:
    tag_ids = [str(i) for i in await _two_tags_on_many(database, passwords, world)]
    api = (await api_with(nested_list_max_rows=3)).with_key(world.a.provider.api_key)
    whole = "query($t: [ID]) { tags(ids: $t) { tagged_users { id } } }"
    with tagging_rows(database) as fetched:
        body = await api.post(whole, {"t": tag_ids})
    assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}
    assert sum(fetched) == 2 * 4  # cap + 1 of each tag
    pages = (
        "query($t: [ID]) { tags(ids: $t) { a: tagged_users(should_paginate: true) { id } "
        "b: tagged_users(should_paginate: true, offset: 2) { id } } }"
    )
    with tagging_rows(database) as fetched:
        listed = (await api.data(pages, {"t": tag_ids}))["tags"]
    # Up to each page's end (10, 2 + 10) of each tag; never every tagging (2 x 14 a read).
    assert sum(fetched) <= 2 * (10 + 12)
    assert max(fetched) <= 2 * 12
    for tag in listed:
        assert len(tag["a"]) == 10 and len(tag["b"]) == 10
        assert tag["a"][2:] == tag["b"][:8]  # pages of one ordering
