"""``carebook import patients``: good and bad files, re-runs, dry runs, the report and summary."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.run import carebook
from tests.imports.support import counts, patients_by_email, read_report, write_csv
from tests.support.api import Api
from tests.support.world import World

from carebook.db.engine import Database

SEARCH = "query($k: String) { users(keywords: $k) { id email } usersCount(keywords: $k) }"
CREATE = """mutation($input: createClientInput) { createClient(input: $input) {
  user { id } messages { field message } } }"""

GOOD = [
    ("Amara", "Okafor", "amara@example.com", "1984-03-02", "555 444 2244", "Female", "MRN-1"),
    ("Jonas", "Salk", "jonas@example.com", "10/28/1914", "", "Male", "MRN-2"),
]
BAD_PHONE = ("Zed", "Quill", "zed@example.com", "", "12", "", "MRN-3")


def _run(database_url: str, path: Path, org: int, *extra: str) -> tuple[int, str, str]:
    done = carebook(
        database_url, "import", "patients", str(path), "--organization-id", str(org), *extra
    )
    return done.returncode, done.stdout, done.stderr


async def test_a_good_file_creates_searchable_patients_of_that_organization_only(
    database_url: str, database: Database, world: World, api: Api, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "patients.csv", GOOD)
    code, out, err = _run(database_url, path, world.a.provider.organization_id)
    assert code == 0, err
    assert "2 rows read: 2 patients were created" in out
    assert read_report(tmp_path / "patients.csv.errors.csv") == []
    patients = await patients_by_email(database, world.a.provider.organization_id)
    amara = patients["amara@example.com"]
    assert (amara.first_name, amara.phone_number, str(amara.dob)) == (
        "Amara", "+15554442244", "1984-03-02",
    )  # fmt: skip
    assert amara.dietitian_id == world.a.provider.user_id  # the organization's first provider
    assert str(patients["jonas@example.com"].dob) == "1914-10-28"
    # The search index and the counters followed.
    mine = await api.with_key(world.a.provider.api_key).data(SEARCH, {"k": "okafor"})
    assert [u["email"] for u in mine["users"]] == ["amara@example.com"]
    assert mine["usersCount"] == 1
    theirs = await api.with_key(world.b.provider.api_key).data(SEARCH, {"k": "okafor"})
    assert theirs == {"users": [], "usersCount": 0}
    # No welcome email unless asked for.
    assert (await counts(database))["outbox"] == 0


async def test_bad_rows_are_reported_with_createclients_messages_and_a_rerun_updates(
    database_url: str, database: Database, world: World, api: Api, tmp_path: Path
) -> None:
    org = world.a.provider.organization_id
    path = write_csv(tmp_path / "p.csv", [*GOOD, BAD_PHONE, ("", "NoFirst", "", "", "", "", "")])
    code, out, _ = _run(database_url, path, org)
    assert code == 3
    assert "4 rows read: 2 patients were created, 0 rows were updates" in out
    assert "2 rows not imported" in out
    report = read_report(tmp_path / "p.csv.errors.csv")
    answer = await api.with_key(world.a.provider.api_key).data(
        CREATE, {"input": {"first_name": "Zed", "last_name": "Quill", "email": "z@example.com",
                           "phone_number": "12"}},
    )  # fmt: skip
    assert report[0] == (4, "phone_number", answer["createClient"]["messages"][0]["message"])
    assert {(row, field) for row, field, _ in report[1:]} == {(5, "first_name"), (5, "email")}
    before = await counts(database)

    fixed = write_csv(
        tmp_path / "fixed.csv",
        [(*GOOD[0][:4], "555 000 1111", *GOOD[0][5:]), GOOD[1], (*BAD_PHONE[:4], "", "", "MRN-3")],
    )
    code, out, err = _run(database_url, fixed, org)
    assert code == 0, err
    assert "3 rows read: 1 patients were created, 2 rows were updates" in out
    patients = await patients_by_email(database, org)
    assert sum(1 for email in patients if email in ("amara@example.com", "jonas@example.com")) == 2
    assert patients["amara@example.com"].phone_number == "+15550001111"
    after = await counts(database)
    assert after["users"] == before["users"] + 1  # Zed only: nobody twice


async def test_dry_run_reports_the_same_and_writes_nothing(
    database_url: str, database: Database, world: World, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "p.csv", [*GOOD, BAD_PHONE])
    before = await counts(database)
    code, out, _ = _run(database_url, path, world.a.provider.organization_id, "--dry-run")
    assert code == 3
    assert "3 rows read: 2 patients would be created" in out and "nothing was written" in out
    assert [row for row, _, _ in read_report(tmp_path / "p.csv.errors.csv")] == [4]
    assert await counts(database) == before


async def test_a_file_in_another_encoding_is_refused_whole_and_names_the_line(
    database_url: str, database: Database, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "latin.csv"
    text = "first_name,last_name,email\nAnn,Lee,ann@example.com\nRenée,Lefèvre,r@example.com\n"
    path.write_bytes(text.encode("cp1252"))
    before = await counts(database)
    code, _, err = _run(database_url, path, world.a.provider.organization_id)
    assert code == 1
    assert "line 3 is not valid utf-8-sig" in err and "nothing was written" in err
    assert await counts(database) == before  # not even the good first row
    code, _, err = _run(database_url, path, world.a.provider.organization_id, "--encoding=cp1252")
    assert code == 0, err
    patients = await patients_by_email(database, world.a.provider.organization_id)
    assert patients["r@example.com"].last_name == "Lefèvre"


async def test_missing_and_unknown_columns_are_refused_whole(
    database_url: str, database: Database, world: World, tmp_path: Path
) -> None:
    org = world.a.provider.organization_id
    before = await counts(database)
    missing = write_csv(tmp_path / "m.csv", [("Ann", "ann@example.com")], ("first_name", "email"))
    code, _, err = _run(database_url, missing, org)
    assert code == 1 and "missing column(s): last_name" in err
    unknown = write_csv(
        tmp_path / "u.csv", [("Ann", "Lee", "ann@example.com", "x")],
        ("First Name", "Surname", "email", "Shoe size"),
    )  # fmt: skip
    code, _, err = _run(database_url, unknown, org)
    assert code == 1 and "unknown column(s) 'Surname', 'Shoe size'" in err
    assert await counts(database) == before
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"Surname": "last_name", "Shoe size": ""}))
    code, _, err = _run(database_url, unknown, org, "--map", str(mapping))
    assert code == 0, err
    assert (await patients_by_email(database, org))["ann@example.com"].last_name == "Lee"


async def test_ndjson_and_welcome_emails_on_request(
    database_url: str, database: Database, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "p.ndjson"
    lines = [
        {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com", "dob": "1990-01-02"},
        {"first_name": "Bo", "last_name": "Ray", "skipped_email": True, "record_identifier": 7},
        {"first_name": "Cy", "last_name": "Doe", "email": "cy@example.com", "shoe": 44},
        "not an object",
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    code, out, _ = _run(
        database_url, path, world.a.provider.organization_id, "--send-welcome",
        "--report", str(tmp_path / "r.csv"),
    )  # fmt: skip
    assert code == 3 and "2 patients were created" in out
    assert [(row, field) for row, field, _ in read_report(tmp_path / "r.csv")] == [(3, ""), (4, "")]
    patients = await patients_by_email(database, world.a.provider.organization_id)
    assert patients[""].record_identifier == "7" and patients[""].skipped_email
    assert (await counts(database))["outbox"] == 1  # Ann's welcome; Bo has no email
