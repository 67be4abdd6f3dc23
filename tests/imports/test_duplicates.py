"""An import checks its patients for duplicates, as createClient does (review of issue 26)."""

from __future__ import annotations

from pathlib import Path

from tests.cli.run import carebook
from tests.duplicates.test_api import CANDIDATES, ROBERT
from tests.imports.support import write_csv
from tests.support.api import Api
from tests.support.world import World

HEADER = ("first_name", "last_name", "email", "dob", "phone_number")
ROWS = [
    ("Bob", "Smyth", "bob.s@example.com", "1980-03-04", "555-444-2244"),  # ROBERT, over the API
    ("Ann", "Okafor", "ann@example.com", "1990-01-02", ""),
    ("Anne", "Okafor", "anne.o@example.com", "1990-02-01", ""),  # row 3's, day and month swapped
]


async def test_imported_patients_are_checked_and_their_pairs_recorded_and_summarized(
    database_url: str, api: Api, world: World, tmp_path: Path
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    created = await provider.data(
        "mutation($input: createClientInput) { createClient(input: $input) { user { id } } }",
        {"input": ROBERT},
    )
    robert = created["createClient"]["user"]["id"]
    path = write_csv(tmp_path / "p.csv", ROWS, HEADER)
    for extra in (("--dry-run",), ()):
        done = carebook(
            database_url, "import", "patients", str(path),
            "--organization-id", str(world.a.provider.organization_id), *extra,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        notes = [line for line in done.stdout.splitlines() if line.startswith("likely dup")]
        assert [note.split(":")[1] for note in notes] == [
            f" patient {robert} and row 2",
            " row 3 and row 4",
        ], done.stdout
        assert all("@" not in note and "Okafor" not in note for note in notes)
        listed = await provider.data(CANDIDATES)
        assert listed["duplicateCandidatesCount"] == (0 if extra else 2)
    pairs = {
        frozenset((pair["user"]["first_name"], pair["other_user"]["first_name"]))
        for pair in listed["duplicateCandidates"]
    }
    assert pairs == {frozenset(("Robert", "Bob")), frozenset(("Ann", "Anne"))}
