"""``carebook provider create --organization``: a misspelt name never creates a practice."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from tests.cli.run import carebook

from carebook.db.engine import Database
from carebook.organizations.models import Organization


async def _organizations(database: Database) -> int:
    async with database.read_sessions() as session:
        query = select(func.count()).select_from(Organization)
        return int((await session.execute(query)).scalar_one())


def _create(database_url: str, email: str, *extra: str) -> tuple[int, str, str]:
    done = carebook(database_url, "provider", "create", "--email", email, "--first-name", "Ada",
                    "--last-name", "Byron", "--json", *extra)  # fmt: skip
    return done.returncode, done.stdout, done.stderr


async def test_an_unknown_name_is_an_error_listing_close_matches(
    database_url: str, database: Database
) -> None:
    create = ("--organization", "Sunrise Nutrition", "--create-organization")
    code, out, err = _create(database_url, "a@example.com", *create)
    assert code == 0, err
    first = json.loads(out)["organization_id"]

    code, out, err = _create(database_url, "b@example.com", "--organization", "sunrise nutriton")
    assert code == 1 and out == ""
    assert "No organization is named 'sunrise nutriton'" in err
    assert "did you mean 'Sunrise Nutrition'" in err
    assert await _organizations(database) == 1

    code, out, err = _create(database_url, "b@example.com", "--organization", "Sunrise Nutrition")
    assert code == 0, err
    assert json.loads(out)["organization_id"] == first  # the exact name joins


async def test_creating_needs_the_flag_and_a_name_not_taken(
    database_url: str, database: Database
) -> None:
    code, _, err = _create(database_url, "a@example.com", "--organization", "Hillside Care")
    assert code == 1 and "No organization is named 'Hillside Care'" in err
    assert "did you mean" not in err and "add --create-organization" in err
    assert await _organizations(database) == 0
    code, _, err = _create(
        database_url, "a@example.com", "--organization", "Hillside Care", "--create-organization"
    )
    assert code == 0, err
    code, _, err = _create(
        database_url, "b@example.com", "--organization", "Hillside Care", "--create-organization"
    )
    assert code == 1 and "An organization named 'Hillside Care' already exists" in err
    code, _, err = _create(database_url, "c@example.com", "--organization-id", "999")
    assert code == 1 and "Organization not found" in err
    assert await _organizations(database) == 1


async def test_without_a_name_the_provider_gets_a_practice_of_their_own(
    database_url: str, database: Database
) -> None:
    # The README's first command: no --organization, a new practice named after the provider.
    ids = []
    for email in ("a@example.com", "b@example.com"):
        code, out, err = _create(database_url, email)
        assert code == 0, err
        ids.append(json.loads(out)["organization_id"])
    assert await _organizations(database) == 2
    # Both are "Ada Byron's practice": the name alone is refused, naming the ids to choose from.
    code, _, err = _create(database_url, "c@example.com", "--organization", "Ada Byron's practice")
    assert code == 1
    assert f"Several organizations are named 'Ada Byron's practice' (ids {', '.join(ids)})" in err
    code, out, err = _create(database_url, "c@example.com", "--organization-id", ids[1])
    assert code == 0, err
    assert json.loads(out)["organization_id"] == ids[1]
    assert await _organizations(database) == 2
