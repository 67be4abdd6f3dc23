"""Keep-alive connections spread evenly over the server's worker processes.

The load driver holds a few keep-alive connections, and each stays with the worker process that
accepted it. When several connections are opened at once, the first worker to wake accepts them
all (asyncio accepts every pending connection in one go), so a run could put 3 or 4 of its 4
connections on one of 2 workers: that worker saturates while the other idles, and ``user(id)``
measured 560 req/s in such runs against 1,100 in runs where the split was even (same build,
same database; per-worker CPU 100% / 17% against 88% / 80%). Many clients, as a server really
has, spread over the workers; so does this: it opens connections, finds which process accepted
each (the socket's inode in /proc/net/tcp, then the process holding it in /proc/PID/fd), and
keeps an even number per worker.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from pathlib import Path

from bench.client import Connection, HttpCaller, process_tree

# Connections tried per connection kept before giving up on an even split.
ATTEMPTS_PER_CONNECTION = 20


def _inode(server_port: int, client_port: int) -> int | None:
    """Inode of the server's end of the 127.0.0.1 connection from ``client_port``."""
    local, remote = f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[2] == remote and fields[9] != "0":
            return int(fields[9])
    return None


def _holder(inode: int, pids: list[int]) -> int | None:
    """The process among ``pids`` with the socket ``inode`` open."""
    target = f"socket:[{inode}]"
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return pid
            except OSError:
                continue
    return None


async def owner(connection: Connection, server_pid: int, wait: float = 2.0) -> int | None:
    """The server process that accepted ``connection`` (None if unknown after ``wait`` s)."""
    assert connection.writer is not None
    client_port = connection.writer.get_extra_info("sockname")[1]
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        inode = _inode(connection.port, client_port)
        # Until a worker has accepted it, the connection is in no process's descriptors.
        found = _holder(inode, process_tree(server_pid)) if inode is not None else None
        if found is not None:
            return found
        await asyncio.sleep(0.005)
    return None


async def spread(
    port: int, headers: dict[str, str], count: int, server_pid: int, workers: int
) -> tuple[list[Connection], dict[int, int]]:
    """``count`` open connections, at most ceil(count / workers) held by any one process.

    Returns the connections and how many each process holds. If an even split is not reached
    within the attempts, the connections found so far are completed with unchecked ones.
    """
    per_worker = math.ceil(count / max(workers, 1))
    kept: list[Connection] = []
    held: dict[int, int] = {}
    for _ in range(count * ATTEMPTS_PER_CONNECTION):
        if len(kept) == count:
            break
        connection = Connection(port, headers)
        await connection.open()
        pid = await owner(connection, server_pid)
        if pid is not None and held.get(pid, 0) < per_worker:
            held[pid] = held.get(pid, 0) + 1
            kept.append(connection)
        else:
            await connection.close()
    while len(kept) < count:
        kept.append(Connection(port, headers))
    return kept, held


async def fill(caller: HttpCaller, count: int, server_pid: int, workers: int) -> dict[int, int]:
    """Give ``caller`` ``count`` connections spread over the workers; how many each holds."""
    connections, held = await spread(caller.port, caller.headers, count, server_pid, workers)
    caller.idle.extend(connections)
    return held
