"""One rule for ids in every resolver (carebook/graphql/lookup.py).

A root field that fetches one object answers null for a blank, malformed or unknown id alike; an
id that narrows a list and is malformed is BAD_USER_INPUT "<argument> is not a valid id".
"""

from __future__ import annotations

import pytest

from carebook.graphql.errors import BAD_USER_INPUT, CodedError
from carebook.graphql.lookup import id_argument, id_or_none
from tests.support.api import Api
from tests.support.world import World

BY_ID = ["appointment", "conversation", "location", "userGroup"]
NARROWING = {
    "appointments": "user_id",
    "tags": "user_id",
    "auditEvents": "patient_id",
    "requestedFormCompletions": "user_id",
    "notifications": "other_party_id",
    "locations": "user_id",
    "users": "group_id",
}
NOT_IDS = ["", "  ", "abc", "12x", "-3", "99999999999", "²"]


def test_an_id_that_names_one_object_is_none_when_blank_or_malformed() -> None:
    assert id_or_none(" 42 ") == 42
    assert [id_or_none(value) for value in NOT_IDS] == [None] * len(NOT_IDS)


def test_an_id_that_narrows_a_list_is_bad_input_when_malformed() -> None:
    assert id_argument(None, "user_id") is None
    assert id_argument(" ", "user_id") is None
    with pytest.raises(CodedError, match=r"^user_id is not a valid id$") as raised:
        id_argument("abc", "user_id")
    assert raised.value.extensions == {"code": BAD_USER_INPUT}


@pytest.mark.parametrize("field", BY_ID)
async def test_fetching_one_object_answers_null_for_any_id_that_names_nothing(
    api: Api, world: World, field: str
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    document = f"query($id: ID) {{ {field}(id: $id) {{ id }} }}"
    for value in [None, *NOT_IDS, "999999"]:
        assert await staff.data(document, {"id": value}) == {field: None}, value


@pytest.mark.parametrize("field", sorted(NARROWING))
async def test_a_malformed_id_narrowing_a_list_is_bad_input(
    api: Api, world: World, field: str
) -> None:
    argument = NARROWING[field]
    staff = api.with_key(world.a.provider.api_key)
    body = await staff.post(f'{{ {field}({argument}: "abc") {{ id }} }}')
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (f"{argument} is not a valid id", BAD_USER_INPUT)
    ]
