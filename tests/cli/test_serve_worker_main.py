"""``carebook serve --workers N``: a worker starts from the worker module, not the command line.

A spawned worker first imports what the parent's ``__main__`` names (multiprocessing's
preparation data); for the command line that was every command's modules, in every worker.
"""

from __future__ import annotations

import sys
from multiprocessing import spawn

from carebook.cli import serve, worker


def test_workers_are_spawned_from_the_worker_module() -> None:
    before = sys.modules["__main__"]
    with serve._light_main():
        assert spawn.get_preparation_data("worker")["init_main_from_name"] == worker.__name__
    assert sys.modules["__main__"] is before
