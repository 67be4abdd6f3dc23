"""What a serving worker imports: the application, not the libraries only some requests need.

Each of these cost start-up time and memory in every worker (docs/performance.md, "Start-up");
they are imported on first use by the requests that need them. matplotlib (the bench's charts)
must never be imported by the server at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

# Imported on first use: by writes (addresses, phones, languages, messages, duplicate checks),
# webhook deliveries, emails sent (SMTP), passwords, metrics (when on) and migrations (carebook
# serve's parent).
LAZY = (
    "aiohttp",
    "aiosmtplib",
    "alembic",
    "argon2",
    "email_validator",
    "httpx",
    "jellyfish",
    "mako",
    "nh3",
    "nicknames",
    "phonenumbers",
    "prometheus_client",
    "pycountry",
    "pygments",
    "rapidfuzz",
    "yarl",
)
NEVER = ("matplotlib",)


def _imported_after(statement: str) -> set[str]:
    """The top-level modules a fresh interpreter holds after ``statement``."""
    program = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, check=True, text=True, timeout=120
    ).stdout
    return {name.split(".")[0] for name in json.loads(output)}


def test_building_the_app_imports_none_of_the_request_only_libraries() -> None:
    loaded = _imported_after(
        "from carebook.app import create_app\n"
        "from carebook.config import Settings\n"
        "create_app(Settings(database_url='sqlite+aiosqlite:///:memory:'), serving=True)"
    )
    assert loaded & {*LAZY, *NEVER} == set()
    assert "strawberry" in loaded  # the probe saw the application itself


def test_a_worker_builds_its_app_without_a_full_collection() -> None:
    program = (
        "import gc, json, sys\n"
        "from carebook.cli.worker import app_from_environment\n"
        "assert 'carebook.app' not in sys.modules\n"
        "before = gc.get_stats()[2]['collections']\n"
        "app_from_environment()\n"
        "print(json.dumps([before, gc.get_stats()[2]['collections']]))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        check=True,
        text=True,
        timeout=120,
        env={**os.environ, "CAREBOOK_DATABASE_URL": "sqlite+aiosqlite:///:memory:"},
    ).stdout
    before, after = json.loads(output.splitlines()[-1])
    assert after == before  # none during the import and build (the lifespan collects once)
