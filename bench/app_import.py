"""How long a worker takes to import the application (issue 28: under 1 s on a quiet machine).

Each measurement is a fresh interpreter that does what a ``carebook serve`` worker does before
it serves (carebook/cli/worker.py): the collector held off (``quiet_startup``), then
``import carebook.app``, timed inside the process, so the interpreter's own start and exit
are not counted. The build imported is the one ``src`` names (by default the bench's checkout),
as :func:`bench.run.carebook_env` puts it first on PYTHONPATH.

Bytecode is cached, as in an installed application (pip writes the ``.pyc`` files, and Python
writes its own on the first import): this machine sets ``PYTHONDONTWRITEBYTECODE``, under which
every import compiles every module again, which no production worker does. The cache lives in
the bench's results folder (``PYTHONPYCACHEPREFIX``), one import writes it before the timed
ones, and the median of the timed ones is reported.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

# Run in the fresh interpreter; prints one JSON object. ``os._exit``: tearing down some
# thousand modules is not the import's time, and nothing needs flushing.
_PROBE = """
import gc, json, os, time
try:
    from carebook.gc_pauses import quiet_startup
except ImportError:  # a build from before 2026-12-05: what its worker did not do, done by hand
    quiet_startup = gc.disable
quiet_startup()
wall, cpu = time.perf_counter(), time.process_time()
import carebook.app
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}),
      flush=True)
os._exit(0)
"""

ROUNDS = 3
TARGET_SECONDS = 1.0


def import_once(src: str | Path | None = None, *, cache: Path | None = None) -> dict[str, float]:
    """One import of the application in a fresh interpreter: its wall and CPU seconds."""
    from bench.run import RESULTS, carebook_env  # bench.run reports this module's figure

    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env.update(carebook_env(src))
    env["PYTHONPYCACHEPREFIX"] = str(cache or RESULTS / "pycache")
    try:
        # -P: the current folder is not put first on the path, so only ``src`` supplies carebook.
        done = subprocess.run(
            [sys.executable, "-P", "-c", _PROBE], env=env, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as expired:
        raise RuntimeError("importing the application took over 120 s") from expired
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"importing the application failed: {done.stderr.strip()[-500:]}")
    found: dict[str, float] = json.loads(lines[-1])
    return found


def measure(
    src: str | Path | None = None, rounds: int = ROUNDS, *, cache: Path | None = None
) -> dict[str, Any]:
    """The median of ``rounds`` timed imports, after one that writes the bytecode cache."""
    import_once(src, cache=cache)
    timed = [import_once(src, cache=cache) for _ in range(rounds)]
    return {
        "wall_s": round(statistics.median(t["wall"] for t in timed), 3),
        "cpu_s": round(statistics.median(t["cpu"] for t in timed), 3),
        "rounds": rounds,
    }


def line(measured: dict[str, Any]) -> str:
    """The report's words for one measurement."""
    return (
        f"importing the app (a worker's start, bytecode cached, median of {measured['rounds']}): "
        f"{measured['wall_s']:.2f} s ({measured['cpu_s']:.2f} s CPU; target under "
        f"{TARGET_SECONDS:.0f} s)"
    )
