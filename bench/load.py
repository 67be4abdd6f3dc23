"""Under load: every listed read with 64 clients at once, its p99, errors and the GC pauses.

    python -m bench.under_load                          # the current checkout, SQLite
    python -m bench.under_load --database postgresql --database-url ...
    python -m bench.under_load --src /tmp/before/src    # another build, same bench

The full run (``python -m bench``) ends its reads with this phase (``--load-clients 0`` skips
it); ``bench/under_load.py`` runs it alone on the database of an earlier run. A practice's
front desk, its integrations and its patients' apps make many clients, not 16 polite ones: the
target is a p99 under 100 ms for every read with 64 requests in flight, nothing erroring,
garbage-collection pauses included. Those pauses are measured inside the server's processes by
``bench/gc_probe/sitecustomize.py`` (put on the server's PYTHONPATH; no server code involved,
so an older build is measured the same way): full collections and every pause of 5 ms or
more, with their times, so each operation's window counts its own.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import spread
from bench.client import HttpCaller, Stats, process_tree, run_load
from bench.operations import Operation

CLIENTS = 64
P99_TARGET_MS = 100.0
GC_PROBE = Path(__file__).resolve().parent / "gc_probe"


def gc_env(folder: Path) -> dict[str, str]:
    """What the server's environment needs for its processes to log their GC pauses."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("gc-*.json"):
        old.unlink()
    return {"BENCH_GC_LOG": str(folder)}


def with_gc_probe(env: dict[str, str]) -> dict[str, str]:
    """``env`` (from :func:`bench.run.carebook_env`) with the probe's folder on PYTHONPATH."""
    return {**env, "PYTHONPATH": env["PYTHONPATH"] + os.pathsep + str(GC_PROBE)}


def read_gc(folder: Path) -> dict[int, dict[str, Any]]:
    """The probe's latest document of each process, by pid."""
    found = {}
    for path in folder.glob("gc-*.json"):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # being replaced right now: the previous one is gone
            continue
        found[int(document["pid"])] = document
    return found


@dataclass
class Pauses:
    """The GC pauses of the server's workers within one window."""

    full_collections: int = 0
    full_ms_total: float = 0.0
    longest_ms: float = 0.0  # of the pauses the probe timestamps (full, or 5 ms and more)
    collections: int = 0  # all generations
    gc_ms_total: float = 0.0
    gc_cpu_ms_total: float = 0.0  # the same collections' CPU time (wall minus waiting for a core)

    def as_dict(self) -> dict[str, Any]:
        return {
            "full_collections": self.full_collections,
            "full_ms_total": round(self.full_ms_total, 1),
            "longest_ms": round(self.longest_ms, 1),
            "collections": self.collections,
            "gc_ms_total": round(self.gc_ms_total, 1),
            "gc_cpu_ms_total": round(self.gc_cpu_ms_total, 1),
        }


def pauses_between(
    before: dict[int, dict[str, Any]],
    after: dict[int, dict[str, Any]],
    workers: set[int],
    started: float,
    ended: float,
) -> Pauses:
    """What the workers' collectors did between two readings (``started``/``ended``: Unix s)."""
    pauses = Pauses()
    for pid in workers & after.keys():
        old, new = before.get(pid), after[pid]
        old_counts = old["counts"] if old else [0, 0, 0]
        old_totals = old["totals"] if old else [0.0, 0.0, 0.0]
        pauses.collections += sum(new["counts"]) - sum(old_counts)
        pauses.gc_ms_total += (sum(new["totals"]) - sum(old_totals)) * 1000
        old_cpu = old.get("cpu", [0.0] * 3) if old else [0.0] * 3
        pauses.gc_cpu_ms_total += (sum(new.get("cpu", [0.0] * 3)) - sum(old_cpu)) * 1000
        for moment, generation, seconds, *_cpu in new["notable"]:
            if not started <= moment <= ended:
                continue
            pauses.longest_ms = max(pauses.longest_ms, seconds * 1000)
            if generation == 2:
                pauses.full_collections += 1
                pauses.full_ms_total += seconds * 1000
    return pauses


def _settled_reading(folder: Path) -> dict[int, dict[str, Any]]:
    """A reading written after now (the probe rewrites its file every 0.5 s)."""
    asked = time.time()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        reading = read_gc(folder)
        if reading and all(doc["written"] > asked for doc in reading.values()):
            return reading
        time.sleep(0.1)
    return read_gc(folder)


async def measure_under_load(
    port: int,
    pid: int,
    operations: list[Operation],
    make_caller: Callable[[Operation], HttpCaller],
    *,
    workers: int,
    seconds: float,
    gc_folder: Path | None,
    clients: int = CLIENTS,
) -> list[dict[str, Any]]:
    """Each read with ``clients`` requests in flight for ``seconds``: one row per operation."""
    rows = []
    worker_pids = set(process_tree(pid)) - {pid}
    for operation in operations:
        caller = make_caller(operation)
        await spread.fill(caller, clients, pid, workers)
        before = _settled_reading(gc_folder) if gc_folder else {}
        started = time.time()
        stats: Stats = await run_load(
            operation.name, f"load{clients}", caller, concurrency=clients, duration=seconds,
            max_requests=10**9, warmup=0,
        )  # fmt: skip
        ended = time.time()
        await caller.close()
        after = _settled_reading(gc_folder) if gc_folder else {}
        pauses = pauses_between(before, after, worker_pids, started, ended)
        row = {**stats.summary(), "clients": clients, "gc": pauses.as_dict() if gc_folder else None}
        rows.append(row)
        _log(line(row))
    return rows


def _log(message: str) -> None:
    """Progress on stderr, as bench.run logs it."""
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def line(row: dict[str, Any]) -> str:
    """One row, as the progress log and the command print it."""
    gc = row.get("gc")
    pauses = (
        f"  full GCs {gc['full_collections']} ({gc['full_ms_total']:.0f} ms), longest pause "
        f"{gc['longest_ms']:.1f} ms, all GC {gc['gc_ms_total']:.0f} ms "
        f"(CPU {gc.get('gc_cpu_ms_total', 0):.0f} ms)"
        if gc
        else ""
    )
    return (
        f"{row['operation']:18} load{row['clients']:<3} {row['rps']:8.1f} req/s  median "
        f"{row['median_ms']:7.2f} ms  p99 {row['p99_ms']:7.2f} ms  errors {row['errors']}"
        + pauses
        + (f"  ({row['first_error'][:200]})" if row.get("first_error") else "")
    )


def markdown(rows: list[dict[str, Any]], labels: dict[str, str]) -> list[str]:
    """The phase's table, for the run's report (empty without rows)."""
    if not rows:
        return []
    clients = rows[0]["clients"]
    lines = [
        "",
        f"Under load: {clients} clients at once, {rows[0]['seconds']:.0f} s per read (target: p99 "
        f"under {P99_TARGET_MS:.0f} ms, no errors). GC: the workers' full collections in that "
        "window, their total, and the longest pause of any generation (bench/gc_probe).",
        "",
        "| operation | req/s | median ms | p99 ms | errors | full GCs | full GC ms "
        "| longest GC pause ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        gc = row.get("gc") or {}
        lines.append(
            f"| {labels.get(row['operation'], row['operation'])} | {row['rps']:,.1f} "
            f"| {row['median_ms']:.2f} | {row['p99_ms']:.2f} | {row['errors']} "
            f"| {gc.get('full_collections', '-')} | {gc.get('full_ms_total', '-')} "
            f"| {gc.get('longest_ms', '-')} |"
        )
    return lines
