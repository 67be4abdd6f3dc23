"""``carebook audit export``: JSON lines, filtered by organization and time."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from tests.support.api import Api
from tests.support.world import World

USER = "query($id: ID) { user(id: $id) { id } }"


def _export(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CAREBOOK_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "carebook.cli.main", "audit", "export", *args],
        env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


async def test_export_writes_json_lines(
    api: Api, world: World, database_url: str, tmp_path: Path
) -> None:
    await api.with_key(world.a.provider.api_key).data(USER, {"id": str(world.a.patient_id)})
    await api.with_key(world.b.provider.api_key).data(USER, {"id": str(world.b.patient_id)})
    everything = _export(database_url)
    assert everything.returncode == 0, everything.stderr
    lines = [json.loads(line) for line in everything.stdout.splitlines()]
    assert [line["record_id"] for line in lines] == [
        str(world.a.patient_id),
        str(world.b.patient_id),
    ]
    assert set(lines[0]) == {
        "id", "occurred_at", "organization_id", "actor_id", "actor_role", "credential",
        "operation", "action", "record_type", "record_id", "allowed", "client_address",
        "request_id",
    }  # fmt: skip
    org_b = str(world.b.provider.organization_id)
    target = tmp_path / "audit.jsonl"
    only_b = _export(database_url, "--organization-id", org_b, "--output", str(target))
    assert only_b.returncode == 0, only_b.stderr
    assert "exported 1 audit events" in only_b.stdout
    [line] = [json.loads(text) for text in target.read_text().splitlines()]
    assert (line["organization_id"], line["record_id"]) == (org_b, str(world.b.patient_id))
    future = datetime.now(UTC).replace(year=2100).isoformat()
    assert _export(database_url, "--since", future).stdout == ""
    assert len(_export(database_url, "--until", future).stdout.splitlines()) == 2


def test_export_rejects_a_bad_time(database_url: str) -> None:
    done = _export(database_url, "--since", "last week")
    assert done.returncode != 0
    # Typer draws the message in a box and wraps it: compare the words.
    words = " ".join(re.sub(r"[│╭╮╰╯─]", " ", done.stderr).split())
    assert "'last week' is not a date and time (e.g. 2023-06-05 14:10:00 +0200" in words


def test_the_export_api_and_docs_name_the_same_fields() -> None:
    """docs/security.md's field list is the export's and the API's, in the same order."""
    import re
    from datetime import UTC, datetime

    from carebook.audit.models import AuditEvent
    from carebook.cli.audit import as_json
    from tests.support.schema_walk import SCHEMA

    docs = (Path(__file__).parents[2] / "docs" / "security.md").read_text(encoding="utf-8")
    line = docs.split("**Export and API fields.**", 1)[1].split("(`tests/", 1)[0]
    documented = re.findall(r"`([a-z_]+)`", line)
    row = AuditEvent(
        id=1, occurred_at=datetime.now(UTC), organization_id=1, actor_user_id=2,
        actor_role="provider", credential="api_key", operation="user", action="read",
        record_type="User", record_id=3, allowed=True, client_address=None, request_id="r",
    )  # fmt: skip
    api_fields = list(SCHEMA._schema.type_map["AuditEvent"].fields)  # type: ignore[attr-defined]
    assert documented == list(as_json(row)) == api_fields
