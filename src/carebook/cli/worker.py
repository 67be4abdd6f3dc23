"""What each ``carebook serve --workers N`` worker process starts from.

uvicorn starts every worker as a fresh interpreter that imports the application by name. The
name is this module's factory, not :func:`carebook.app.app_from_environment` itself, so that
the collector is told to hold its collections off before the application's modules are
imported (:func:`carebook.gc_pauses.quiet_startup`): the import runs in the factory, after.

A worker also stops when the process that started it (uvicorn's supervisor, ``carebook
serve``) dies without stopping it, killed by SIGKILL or the out-of-memory killer: uvicorn's
workers otherwise went on serving on the shared socket, unsupervised, with no command left to
stop them. multiprocessing gives every process it spawns the read end of a pipe whose write
end only the parent holds (``parent_process().sentinel``); the kernel closes that end when the
parent dies, however it dies: the same lifeline as the webhook delivery process's
(carebook/webhooks/process.py).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from typing import TYPE_CHECKING

from carebook.gc_pauses import quiet_startup

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from starlette.applications import Starlette


def app_from_environment() -> Starlette:
    """The worker's application (settings from CAREBOOK_* variables)."""
    quiet_startup()
    stop_with_the_supervisor()
    # Imported here, not above: the point of this module is what happens before the import.
    from carebook.app import app_from_environment as build

    return build()


def stop_with_the_supervisor() -> None:
    """On the death of the process that spawned this one, SIGTERM to this process: uvicorn's
    graceful stop (requests in flight end, the application's shutdown runs). Nothing to watch
    in a process multiprocessing did not spawn."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    # A thread, not the event loop: the factory may run before uvicorn's loop exists, and the
    # wait costs nothing until the pipe closes. Daemon: it never holds the worker's exit up.
    threading.Thread(
        target=_terminate_after, args=(parent,), name="carebook-supervisor", daemon=True
    ).start()


def _terminate_after(parent: BaseProcess) -> None:
    parent.join()  # the parent's sentinel: returns when the parent has died
    os.kill(os.getpid(), signal.SIGTERM)
