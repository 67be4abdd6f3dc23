"""Garbage-collection pauses of a server process, as the bench sees them (any build's server).

Python imports ``sitecustomize`` at start-up from its path; the bench puts this folder on the
PYTHONPATH of the ``carebook serve`` it starts, with ``BENCH_GC_LOG`` naming a folder. Every
process of the server (uvicorn's supervisor and its workers) then times each collection with
``gc.callbacks`` and a thread rewrites ``gc-<pid>.json`` in that folder every half second: per
generation the count, total and longest pause, the CPU time the collections took (a pause's
wall time also counts the time the process waited for a core: on a loaded machine much more),
and the time of every full (generation 2) collection and of any pause of 5 ms or more. No
server code is changed, so a build from before this probe is measured the same way.
"""

import gc
import json
import os
import threading
import time

_FOLDER = os.environ.get("BENCH_GC_LOG")
_NOTABLE_SECONDS = 0.005


def _install(folder: str) -> None:
    os.makedirs(folder, exist_ok=True)
    counts = [0, 0, 0]
    totals = [0.0, 0.0, 0.0]
    longest = [0.0, 0.0, 0.0]
    notable: list[tuple[float, int, float, float]] = []
    cpu = [0.0, 0.0, 0.0]
    started = [0.0, 0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0], started[1] = time.perf_counter(), time.thread_time()
            return
        pause = time.perf_counter() - started[0]
        generation = info["generation"]
        counts[generation] += 1
        totals[generation] += pause
        used = time.thread_time() - started[1]
        cpu[generation] += used
        longest[generation] = max(longest[generation], pause)
        if (generation == 2 or pause >= _NOTABLE_SECONDS) and len(notable) < 100_000:
            notable.append((time.time(), generation, pause, used))

    def flush() -> None:
        path = os.path.join(folder, f"gc-{os.getpid()}.json")
        while True:
            time.sleep(0.5)
            document = {
                "pid": os.getpid(),
                "written": time.time(),
                "counts": counts,
                "totals": totals,
                "longest": longest,
                "cpu": cpu,
                "frozen": gc.get_freeze_count(),
                "thresholds": gc.get_threshold(),
                "notable": list(notable),
            }
            temporary = f"{path}.tmp"
            with open(temporary, "w", encoding="utf-8") as output:
                json.dump(document, output)
            os.replace(temporary, path)

    gc.callbacks.append(callback)
    threading.Thread(target=flush, name="bench-gc-probe", daemon=True).start()


if _FOLDER:
    _install(_FOLDER)
