"""``carebook serve``'s webhook delivery process, started and supervised beside the workers.

With ``CAREBOOK_WEBHOOK_DELIVERY=process`` (the default) the server processes do not deliver
webhooks: one child process does (:mod:`carebook.webhooks.process`), at a lower CPU priority.
This supervisor starts it when the server starts, starts it again when it dies (after 1 s,
doubling up to 30 s while it keeps dying at once: a process that cannot start should not spin),
and stops it (SIGTERM, then SIGKILL after 10 s) when the server stops. Deliveries a dead process
had claimed are sent again once their leases lapse: nothing is lost.
"""

from __future__ import annotations

import logging
import os
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
STOP_SECONDS = 10.0


class DeliveryProcess:
    """The delivery child of one ``carebook serve``; a context manager around the server."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.env = env if env is not None else dict(os.environ)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
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
            self._process = subprocess.Popen(COMMAND, env=self.env)  # noqa: S603 (our own)
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


def main() -> None:
    """The child's entry point: the whole schema's tables, then the delivery process."""
    import carebook.tables  # noqa: F401  (every table: the foreign keys resolve)
    from carebook.webhooks.process import main as deliver

    deliver()


if __name__ == "__main__":
    main()
