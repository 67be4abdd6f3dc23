"""Services turn the ids a client names into rows one way (carebook/users/lookup.py)."""

from __future__ import annotations

import pytest

from carebook.errors import FieldMessage, Invalid, NotFound
from carebook.users.lookup import BLANK_ID, all_found, found

ROWS = {7: "seven"}


async def _load(row_id: int) -> str | None:
    return ROWS.get(row_id)


async def _answer(raw_id: object, **options: str | None) -> str | list[FieldMessage]:
    try:
        return await found(raw_id, _load, field="id", missing="Row not found", **options)
    except Invalid as error:
        return error.messages


async def test_a_visible_row_is_returned() -> None:
    assert await _answer(" 7 ") == "seven"


async def test_an_unknown_id_is_not_found() -> None:
    with pytest.raises(NotFound):
        await found("8", _load, field="id", missing="Row not found")
    assert await _answer("8") == [FieldMessage("id", "Row not found")]


async def test_a_blank_id_is_blank_or_not_found_as_the_caller_chooses() -> None:
    assert await _answer(None) == [FieldMessage("id", BLANK_ID)]
    assert await _answer(" ", blank="Tag can't be blank") == [
        FieldMessage("id", "Tag can't be blank")
    ]
    assert await _answer("", blank=None) == [FieldMessage("id", "Row not found")]


async def test_a_malformed_id_is_parse_ids_message() -> None:
    assert await _answer("x1") == [FieldMessage("id", "'x1' is not a valid id")]


def test_all_found_names_the_missing_ids_in_order() -> None:
    all_found([3, 7], {3: "a", 7: "b"}, field="ids", label="Tags")
    with pytest.raises(NotFound) as raised:
        all_found([9, 3, 8], {3}, field="ids", label="Tags")
    assert raised.value.messages == [FieldMessage("ids", "Tags not found: 9, 8")]
