"""Every paginated list checks offset and page_size alike (carebook/graphql/pagination.py).

One rule for every root list: a null offset is 0, a null page_size the list's default, a negative
offset or a page size out of 1..max is BAD_USER_INPUT with the same message wherever it is sent.
"""

from __future__ import annotations

import pytest

from carebook.graphql.errors import BAD_USER_INPUT, CodedError
from carebook.graphql.pagination import Page, encode_cursor, page_of
from tests.support.api import Api
from tests.support.world import World

# field -> (extra arguments that ask for one page, the largest page size)
LISTS = {
    "appointmentTypes": ("should_paginate: true", 100),
    "offerings": ("should_paginate: true", 100),
    "appointments": ("should_paginate: true", 100),
    "locations": ("should_paginate: true", 100),
    "auditEvents": ("", 500),
    "notifications": ("", 100),
    "requestedFormCompletions": ("", 100),
    "userGroups": ("should_paginate: true", 100),
    "onboardingFlows": ("should_paginate: true", 100),
    "users": ("should_paginate: true", 100),
}


def _document(field: str) -> str:
    extra = LISTS[field][0]
    return (
        f"query($offset: Int, $page_size: Int) {{ {field}(offset: $offset, "
        f"page_size: $page_size {extra}) {{ id }} }}"
    )


@pytest.mark.parametrize("field", sorted(LISTS))
async def test_every_list_refuses_bad_pages_with_the_same_messages(
    api: Api, world: World, field: str
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    largest = LISTS[field][1]
    wrong_size = f"page_size must be between 1 and {largest}"
    for variables, message in [
        ({"offset": -1}, "offset can't be negative"),
        ({"page_size": 0}, wrong_size),
        ({"page_size": largest + 1}, wrong_size),
    ]:
        body = await staff.post(_document(field), variables)
        errors = body.get("errors") or []
        assert [(e["message"], e["extensions"]["code"]) for e in errors] == [
            (message, BAD_USER_INPUT)
        ], (field, variables)
    assert (await staff.post(_document(field), {"page_size": largest})).get("errors") is None


def test_a_page_starts_after_the_cursor_then_skips_the_offset() -> None:
    assert page_of(offset=None, page_size=None) == Page(offset=0, size=10)
    assert page_of(offset=2, page_size=5, after=encode_cursor(9)) == Page(offset=12, size=5)
    assert page_of(offset=0, page_size=None, default_size=50) == Page(offset=0, size=50)


def test_a_whole_list_ignores_page_size() -> None:
    assert page_of(offset=3, page_size=100_000, paginate=False) == Page(offset=3, size=None)


def test_a_bad_cursor_is_bad_input() -> None:
    with pytest.raises(CodedError, match="Invalid cursor"):
        page_of(offset=0, page_size=10, after="garbage")
