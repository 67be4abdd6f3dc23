"""Files with a stray quote, deep nesting or control characters, and the report's privacy
(review of issue 26): a clear message naming the line or row, never a traceback."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.cli.run import carebook
from tests.imports.support import counts, patients_by_email, read_report, write_csv
from tests.support.api import Api
from tests.support.world import World

from carebook.db.engine import Database

HEADER = "first_name,last_name,email\n"


def _run(database_url: str, path: Path, org: int) -> tuple[int, str, str]:
    done = carebook(database_url, "import", "patients", str(path), "--organization-id", str(org))
    return done.returncode, done.stdout, done.stderr


async def test_a_stray_quote_before_a_huge_run_is_refused_whole_naming_its_line(
    database_url: str, database: Database, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "p.csv"
    rest = "".join(f"Pat,Num,p{n}@example.com\n" for n in range(7000))  # > 131,072 characters
    path.write_text(HEADER + "Ann,Lee,ann@example.com\n" + 'Bob,"Ray,bob@example.com\n' + rest)
    before = await counts(database)
    code, _, err = _run(database_url, path, world.a.provider.organization_id)
    assert code == 1
    assert "Traceback" not in err
    assert "line 3 cannot be read as CSV" in err and "nothing was written" in err
    assert await counts(database) == before


async def test_a_stray_quote_that_swallows_rows_is_a_row_error_not_a_silent_value(
    database_url: str, database: Database, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "p.csv"
    # Bob's identifier opens a quote: without the check, Cy and Dee's rows would be Bob's
    # record identifier, and only Ann and Bob would go in.
    body = (
        'Ann,Lee,ann@example.com,MRN-1\nBob,Ray,bob@example.com,"MRN-2\n'
        "Cy,Doe,cy@example.com,MRN-3\nDee,Doe,dee@example.com,MRN-4\n"
    )
    path.write_text(HEADER.replace("\n", ",record_identifier\n") + body)
    code, out, _ = _run(database_url, path, world.a.provider.organization_id)
    assert code == 3 and "1 patients were created" in out
    assert read_report(tmp_path / "p.csv.errors.csv") == [
        (3, "record_identifier", "a quoted cell runs from line 3 to line 5 (a stray quote?): "
         "this field is one line"),
    ]  # fmt: skip
    patients = await patients_by_email(database, world.a.provider.organization_id)
    assert set(patients) >= {"ann@example.com"} and "bob@example.com" not in patients


async def test_a_deeply_nested_ndjson_line_is_that_rows_problem(
    database_url: str, database: Database, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "p.ndjson"
    good = {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"}
    deep = '{"first_name": "Bo", "metadata": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path.write_text(deep + "\n" + json.dumps(good) + "\n")
    code, out, err = _run(database_url, path, world.a.provider.organization_id)
    assert code == 3 and "Traceback" not in err and "1 patients were created" in out
    assert read_report(tmp_path / "p.ndjson.errors.csv") == [(1, "", "the line nests too deeply")]


async def test_control_characters_are_a_field_error_on_both_databases_and_in_createclient(
    database_url: str, database: Database, world: World, api: Api, tmp_path: Path
) -> None:
    org = world.a.provider.organization_id
    rows = [("Pat", f"Num{n}", f"p{n}@example.com") for n in range(5)]
    rows[1] = ("Pa\x00t", "Nul", "nul@example.com")
    rows[3] = ("Esc", "La\x1bter", "esc@example.com")
    path = write_csv(tmp_path / "p.csv", rows, ("first_name", "last_name", "email"))
    code, out, _ = _run(database_url, path, org)
    assert code == 3 and "3 patients were created" in out  # the batch went in without them
    assert read_report(tmp_path / "p.csv.errors.csv") == [
        (3, "first_name", "First name contains a control character (U+0000): remove it"),
        (5, "last_name", "Last name contains a control character (U+001B): remove it"),
    ]
    patients = await patients_by_email(database, org)
    assert "nul@example.com" not in patients and "p4@example.com" in patients
    # A NUL never reaches createClient (the request is refused whole); the other controls do.
    answer = await api.with_key(world.a.provider.api_key).data(
        "mutation($input: createClientInput) { createClient(input: $input) {"
        " user { id } messages { field message } } }",
        {"input": {"first_name": "Pa\x1bt", "last_name": "Esc", "email": "n@example.com",
                   "dont_send_welcome": True}},
    )  # fmt: skip
    assert answer["createClient"] == {
        "user": None,
        "messages": [{"field": "first_name", "message": "First name contains a control "
                      "character (U+001B): remove it"}],
    }  # fmt: skip


async def test_the_report_is_readable_by_its_owner_only(
    database_url: str, world: World, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "p.csv", [("Zed", "Quill", "not-an-email")], ("first_name", "last_name", "email")
    )
    report = tmp_path / "p.csv.errors.csv"
    report.write_text("")
    report.chmod(0o644)  # left by an earlier run
    code, _, _ = _run(database_url, path, world.a.provider.organization_id)
    assert code == 3
    assert "not-an-email" in report.read_text()  # it quotes values: hence the mode
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
