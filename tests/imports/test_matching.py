"""Which record a row updates: never another person sharing an email, never a merged or
archived patient (review of issue 26)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update
from tests.cli.run import carebook
from tests.imports.support import patients_by_email, read_report, write_csv
from tests.support.world import World

from carebook.db.engine import Database
from carebook.users.models import User

HEADER = ("first_name", "last_name", "email", "dob", "record_identifier")


def _run(database_url: str, path: Path, org: int) -> tuple[int, str]:
    done = carebook(database_url, "import", "patients", str(path), "--organization-id", str(org))
    return done.returncode, done.stdout + done.stderr


async def _by_identifier(database: Database, org: int) -> dict[str, User]:
    patients = await patients_by_email(database, org)  # one per email: enough here
    return {user.record_identifier or "": user for user in patients.values()}


async def test_a_new_identifier_with_a_taken_email_is_refused_not_written_over(
    database_url: str, database: Database, world: World, tmp_path: Path
) -> None:
    org = world.a.provider.organization_id
    anna = ("Anna", "Lee", "parent@example.com", "2015-01-01", "MRN-1")
    code, out = _run(database_url, write_csv(tmp_path / "a.csv", [anna], HEADER), org)
    assert code == 0, out
    ben = ("Ben", "Lee", "parent@example.com", "2018-05-05", "MRN-2")
    # Anna again (same identifier, new email), then Ben with the family's email, which Anna
    # gave up in the row before: free, so Ben is created.
    moved = ("Anna", "Lee", "anna@example.com", "2015-01-01", "MRN-1")
    code, out = _run(database_url, write_csv(tmp_path / "b.csv", [ben], HEADER), org)
    assert code == 3 and "0 patients were created, 0 rows were updates" in out
    report = read_report(tmp_path / "b.csv.errors.csv")
    assert report == [
        (2, "email", "Email has already been taken (by a patient with another record_identifier)")
    ]
    kept = (await _by_identifier(database, org))["MRN-1"]
    assert (kept.first_name, str(kept.dob)) == ("Anna", "2015-01-01")
    assert kept.email == "parent@example.com"

    code, out = _run(database_url, write_csv(tmp_path / "c.csv", [moved, ben], HEADER), org)
    assert code == 0, out
    assert "1 patients were created, 1 rows were updates" in out
    patients = await _by_identifier(database, org)
    assert patients["MRN-1"].email == "anna@example.com"
    assert (patients["MRN-2"].first_name, patients["MRN-2"].email) == ("Ben", "parent@example.com")


async def test_rows_of_merged_or_archived_patients_are_reported_and_change_nothing(
    database_url: str, database: Database, world: World, tmp_path: Path
) -> None:
    org = world.a.provider.organization_id
    rows = [
        ("Bob", "Lee", "bob@example.com", "1980-01-01", "MRN-1"),
        ("Robert", "Lee", "rob@example.com", "1980-01-01", "MRN-9"),
        ("Cy", "Doe", "cy@example.com", "1970-01-01", "MRN-5"),
    ]
    code, out = _run(database_url, write_csv(tmp_path / "a.csv", rows, HEADER), org)
    assert code == 0, out
    ids = {key: user.id for key, user in (await _by_identifier(database, org)).items()}
    async with database.write_sessions() as session, session.begin():
        merged = update(User).where(User.id == ids["MRN-1"])
        await session.execute(merged.values(active=False, merged_into_id=ids["MRN-9"]))
        await session.execute(update(User).where(User.id == ids["MRN-5"]).values(active=False))

    again = [
        ("Bobby", "Lee", "bob@example.com", "1980-01-01", "MRN-1"),
        ("Bobby", "Lee", "bob@example.com", "1980-01-01", ""),  # by email
        ("Cyril", "Doe", "cy@example.com", "1970-01-01", "MRN-5"),
    ]
    code, out = _run(database_url, write_csv(tmp_path / "b.csv", again, HEADER), org)
    assert code == 3 and "0 rows were updates" in out and "3 rows not imported" in out
    merged_message = (
        f"patient {ids['MRN-1']} was merged into patient {ids['MRN-9']}: import this row as "
        f"patient {ids['MRN-9']}'s (their record_identifier or email), or undo the merge"
    )
    assert read_report(tmp_path / "b.csv.errors.csv") == [
        (2, "", merged_message),
        (3, "", merged_message),
        (4, "", f"patient {ids['MRN-5']} is archived: unarchive them first (updateClient)"),
    ]
    patients = await _by_identifier(database, org)
    assert (patients["MRN-1"].first_name, patients["MRN-5"].first_name) == ("Bob", "Cy")
