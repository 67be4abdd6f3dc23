"""``bench.load``: the GC probe logs a server process's collections, and each operation's window
counts only its own pauses."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.load import GC_PROBE, gc_env, pauses_between, read_gc, with_gc_probe


def test_the_probe_logs_full_collections_of_a_process(tmp_path: Path) -> None:
    env = {**os.environ, **with_gc_probe({"PYTHONPATH": ""}), **gc_env(tmp_path)}
    program = "import gc, time\nfor _ in range(3):\n    gc.collect()\ntime.sleep(1.2)\n"
    started = time.time()
    process = subprocess.run([sys.executable, "-c", program], env=env, timeout=60, check=False)
    assert process.returncode == 0
    (document,) = read_gc(tmp_path).values()
    assert document["counts"][2] >= 3
    fulls = [moment for moment, generation, *_ in document["notable"] if generation == 2]
    assert len(fulls) >= 3 and all(moment >= started for moment in fulls)
    assert str(GC_PROBE) in env["PYTHONPATH"].split(os.pathsep)


def test_a_window_counts_its_own_pauses() -> None:
    before = {7: {"counts": [10, 1, 0], "totals": [0.01, 0.002, 0.0], "notable": []}}
    after = {
        7: {
            "counts": [30, 3, 2],
            "totals": [0.03, 0.006, 0.15],
            # A full collection before the window, one inside, and a long young one inside.
            "notable": [(99.0, 2, 0.05), (101.0, 2, 0.1), (102.0, 0, 0.02)],
        },
        8: {"counts": [99, 9, 9], "totals": [9.0, 9.0, 9.0], "notable": [(101.0, 2, 9.0)]},
    }
    pauses = pauses_between(before, after, {7}, 100.0, 110.0)  # process 8 is not a worker
    assert pauses.full_collections == 1
    assert pauses.full_ms_total == 100.0
    assert pauses.longest_ms == 100.0
    assert pauses.collections == 24
    assert round(pauses.gc_ms_total) == 174
