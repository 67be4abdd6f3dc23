"""Idle memory of the server, per process: the supervisor and each worker.

The run used to report only the sum over the server's processes, which grows with
``--workers``; a worker's own RSS is what a host is sized by (docs/production.md, "Workers").
"""

from __future__ import annotations

import time

from bench import spread
from bench.client import Connection, rss_bytes

# Seconds to wait for every worker to accept a connection (one still importing on a loaded
# machine can take many seconds; /healthz answers as soon as the first worker is up).
WORKERS_DEADLINE = 120.0


async def worker_pids(port: int, server_pid: int, workers: int) -> set[int]:
    """The worker processes, once each has accepted a connection (so each is serving)."""
    accepted: set[int] = set()
    deadline = time.monotonic() + WORKERS_DEADLINE
    while len(accepted) < workers and time.monotonic() < deadline:
        connection = Connection(port, {})
        await connection.open()
        try:
            found = await spread.owner(connection, server_pid)
        finally:
            await connection.close()
        if found is not None and found != server_pid:
            accepted.add(found)
    return accepted


async def idle_rss(port: int, server_pid: int, workers: int) -> dict[str, object]:
    """RSS in MB of the supervisor and of each worker, right after start-up (before any load)."""
    pids = await worker_pids(port, server_pid, workers) if workers > 1 else set()
    per_worker = sorted(round(rss_bytes([pid]) / 2**20, 1) for pid in pids)
    if workers <= 1:  # one process serves: it is the worker
        per_worker = [round(rss_bytes([server_pid]) / 2**20, 1)]
    return {
        "supervisor_mb": round(rss_bytes([server_pid]) / 2**20, 1) if workers > 1 else None,
        "workers_mb": per_worker,
        "worker_max_mb": max(per_worker) if per_worker else None,
    }
