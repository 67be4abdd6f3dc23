"""docs/quickstart.md cannot go stale: its commands run in order, against the real app, and each
answer must match the one the page shows (same keys and values; ids and date-times may differ).

The page's `carebook provider create` runs as a real command on the test database; every curl
command's JSON body is posted to /graphql with the headers that curl line sends."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from carebook.config import Settings

PAGE = Path(__file__).resolve().parents[2] / "docs" / "quickstart.md"

# The one curl line every call on the page uses: the test sends exactly these headers.
CURL = (
    'curl -s http://127.0.0.1:8000/graphql -H "Authorization: Basic $CAREBOOK_KEY" \\\n'
    '  -H "AuthorizationSource: API" -H "Content-Type: application/json" --data @- <<\'EOF\''
)
BLOCK = re.compile(r"```(sh|json)\n(.*?)\n```", re.S)
# Values that differ from one database to the next: ids and keys, and Healthie's date-times.
VOLATILE_KEY = re.compile(r"^(id|.*_id|api_key)$")
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}$")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The page's webhook receiver is on the reader's own machine, as the page says to allow."""
    return settings.model_copy(update={"webhook_allow_private_urls": True})


def _blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(PAGE.read_text())]


def _calls() -> list[tuple[str, Any]]:
    """Each command on the page with the answer shown after it: ("cli", argv) or ("graphql",
    body), paired with the next json block."""
    calls: list[tuple[str, Any]] = []
    blocks = _blocks()
    for index, (kind, text) in enumerate(blocks):
        if kind != "sh":
            continue
        if text.startswith("carebook provider create"):
            calls.append(("cli", text.split()[1:]))
        elif "<<'EOF'" in text:
            head, body = text.split("\n", 2)[:2], text.split("\n", 2)[2]
            assert "\n".join(head) == CURL, f"a curl line differs from the page's usual one: {head}"
            assert body.endswith("\nEOF"), body
            calls.append(("graphql", json.loads(body.removesuffix("\nEOF"))))
        else:
            continue
        answers = [b for k, b in blocks[index + 1 :] if k == "json"]
        calls[-1] = (calls[-1][0], (calls[-1][1], json.loads(answers[0])))
    return calls


def _compare(shown: Any, actual: Any, ids: dict[str, str], where: str = "") -> None:
    """Asserts `actual` has the shape and values of `shown`; volatile values only have the same
    type. Records which shown id stands for which actual one."""
    if isinstance(shown, dict):
        assert isinstance(actual, dict) and set(actual) == set(shown), (where, shown, actual)
        for key, value in shown.items():
            if VOLATILE_KEY.match(key) and isinstance(value, str):
                assert isinstance(actual[key], str), (where, key, actual[key])
                assert ids.setdefault(value, actual[key]) == actual[key], (where, key, ids)
            else:
                _compare(value, actual[key], ids, f"{where}.{key}")
    elif isinstance(shown, list):
        assert isinstance(actual, list) and len(actual) == len(shown), (where, shown, actual)
        for position, (s, a) in enumerate(zip(shown, actual, strict=True)):
            _compare(s, a, ids, f"{where}[{position}]")
    elif isinstance(shown, str) and DATE_TIME.match(shown):
        assert isinstance(actual, str) and DATE_TIME.match(actual), (where, actual)
    else:
        assert actual == shown, (where, shown, actual)


def _with_ids(value: Any, ids: dict[str, str]) -> Any:
    """The page's variables with each shown id replaced by the one this database gave."""
    if isinstance(value, dict):
        return {k: _with_ids(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_ids(v, ids) for v in value]
    if isinstance(value, str):
        return ids.get(value, value)
    return value


def _provider_create(database_url: str, argv: list[str]) -> dict[str, Any]:
    env = {**os.environ, "CAREBOOK_DATABASE_URL": database_url, "CAREBOOK_ARGON2_TIME_COST": "1",
           "CAREBOOK_ARGON2_MEMORY_COST_KIB": "1024"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "carebook.cli.main", *argv],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_the_page_has_eleven_calls_and_the_cli_first() -> None:
    calls = _calls()
    assert [kind for kind, _ in calls[:1]] == ["cli"]
    assert len(calls) >= 11


async def test_quickstart_runs_as_written(database_url: str, client: httpx.AsyncClient) -> None:
    ids: dict[str, str] = {}
    key = ""
    for step, (kind, (command, shown)) in enumerate(_calls(), start=1):
        if kind == "cli":
            actual = _provider_create(database_url, command)
            key = actual["api_key"]
        else:
            headers = {"Authorization": f"Basic {key}", "AuthorizationSource": "API"}
            body = {**command, "variables": _with_ids(command.get("variables", {}), ids)}
            response = await client.post("/graphql", json=body, headers=headers)
            assert response.status_code == 200, (step, response.text)
            actual = response.json()
        _compare(shown, actual, ids, f"step {step}")
