"""``carebook serve``'s webhook delivery process, started and supervised beside the workers.

With ``CAREBOOK_WEBHOOK_DELIVERY=process`` (the default) the server processes do not deliver
webhooks: one child process does (:mod:`carebook.webhooks.process`), at a lower CPU priority.
This supervisor starts it when the server starts, starts it again when it dies (after 1 s,
doubling up to 30 s while it keeps dying at once: a process that cannot start should not spin),
and stops it (SIGTERM, then SIGKILL after 15 s) when the server stops. Deliveries a dead process
had claimed are sent again once their leases lapse: nothing is lost. A child stopped by a
signal (SIGTERM to the whole process group) is not started again: the server is stopping too.
It ignores SIGINT (a Ctrl-C reaches the whole group): its server stops it.

Should the server die without stopping it (SIGKILL, a crash), the child stops on its own: it
holds the read end of a pipe (its *lifeline*) whose write end only this process holds, and the
kernel closes that end with the process. Both ends are made here, before any child starts, so
a server that dies while its child is still importing is noticed too. (Not ``PR_SET_PDEATHSIG``:
Linux sends that signal when the *thread* that started the child ends, here the supervising
thread, and only after the child has set it, which leaves the same start-up window.)
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from types import TracebackType

logger = logging.getLogger("carebook.webhooks")

# This module, run as the child: it loads every table first (carebook.tables), which the
# delivery's queries refer to (foreign keys), then runs carebook.webhooks.process.
COMMAND = [sys.executable, "-m", "carebook.cli.delivery"]
FIRST_DELAY_SECONDS = 1.0
LONGEST_DELAY_SECONDS = 30.0
# A process that ran this long before dying was not failing to start: the delay starts over.
HEALTHY_SECONDS = 60.0
# How long the server waits for its stopped child before SIGKILL: longer than the child's own
# limit (carebook.webhooks.process.STOP_BUDGET_SECONDS, 10 s), past which it ends itself, so the
# kill does not race a stop that is still within its bounds.
STOP_SECONDS = 15.0
# How a child stopped by a signal exits: 0 once its handler has run (carebook.webhooks.process),
# or dead of the signal when it came before the handler was in place. Such a child was stopped
# on purpose: a signal sent to the whole process group (systemd's KillMode=control-group, a
# `kill` of the group) reaches it while its server is still finishing requests, and a child
# started again then would claim deliveries only to be stopped mid-pass.
STOPPED_BY_SIGNAL = frozenset({0, -signal.SIGTERM, -signal.SIGINT})


class DeliveryProcess:
    """The delivery child of one ``carebook serve``; a context manager around the server."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.env = env if env is not None else dict(os.environ)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        # Not inheritable (os.pipe's default): only the delivery child gets the read end, as
        # pass_fds; no other child (uvicorn's workers) may hold the write end, or a dead server
        # would not close it.
        self._lifeline, writer = os.pipe()
        self._lifeline_ends: tuple[int, ...] = (self._lifeline, writer)
        self._thread = threading.Thread(
            target=self._supervise, name="carebook-webhook-delivery", daemon=True
        )
        self.starts = 0

    def __enter__(self) -> DeliveryProcess:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        """The running child's process id, if any."""
        with self._lock:
            return None if self._process is None else self._process.pid

    def _start(self) -> subprocess.Popen[bytes] | None:
        with self._lock:
            if self._stopping.is_set():
                return None
            # The same stdout and stderr as the server: its lines join the server's log.
            self._process = subprocess.Popen(  # noqa: S603 (our own command)
                [*COMMAND, "--lifeline", str(self._lifeline)],
                env=self.env,
                pass_fds=(self._lifeline,),
            )
            self.starts += 1
            return self._process

    def _supervise(self) -> None:
        delay = FIRST_DELAY_SECONDS
        while not self._stopping.is_set():
            started = time.monotonic()
            process = self._start()
            if process is None:
                return
            code = process.wait()
            if self._stopping.is_set():
                return
            if code in STOPPED_BY_SIGNAL:
                logger.warning(
                    "webhook delivery process stopped by a signal (exit %s); not started again "
                    "before the server restarts",
                    code,
                )
                return
            if time.monotonic() - started >= HEALTHY_SECONDS:
                delay = FIRST_DELAY_SECONDS
            logger.error(
                "webhook delivery process exited with %s; starting it again in %.0f s", code, delay
            )
            self._stopping.wait(delay)
            delay = min(delay * 2, LONGEST_DELAY_SECONDS)

    def stop(self) -> None:
        """Stop the child (and the supervision); wait for it."""
        with self._lock:
            self._stopping.set()
            process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._thread.join(STOP_SECONDS)
        self._cut_lifeline()

    def _cut_lifeline(self) -> None:
        """Close both ends once (a second stop must not close a number reused since): a child
        that somehow still runs sees its lifeline end."""
        with self._lock:
            ends, self._lifeline_ends = self._lifeline_ends, ()
        for end in ends:
            with contextlib.suppress(OSError):
                os.close(end)


def main() -> None:
    """The child's entry point: the whole schema's tables, then the delivery process."""
    if "--lifeline" in sys.argv:
        # Started by a server, which stops it (SIGTERM) once its own requests are done: a
        # Ctrl-C, sent to the whole process group, must not stop it first. Set before the
        # imports, which take a while.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    import carebook.tables  # noqa: F401  (every table: the foreign keys resolve)
    from carebook.webhooks.process import main as deliver

    deliver()


if __name__ == "__main__":
    main()
