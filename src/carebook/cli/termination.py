"""SIGTERM of ``carebook serve`` (one server process): a graceful stop, then the ``with`` blocks
around the server (its webhook delivery process) exit, then the process dies of the signal.

Why not uvicorn's handling alone: once its server has shut down, uvicorn puts back the SIGTERM
handler it found and raises the signal again. The one it found was the default, which ends the
process on the spot, so ``carebook serve`` never reached the end of its ``with`` blocks and
never stopped its delivery process. With this handler in place, uvicorn's raise lands here: it
is noted and returns, the blocks exit, and the process then dies of SIGTERM as before.

The handler never raises: an exception raised from a signal handler is lost when the signal
arrives while a weakref callback or a ``__del__`` runs ("Exception ignored in ..."), and the
server then went on serving (seen in tests/webhooks/test_delivery_shutdown.py). It sets flags
instead: a SIGTERM that comes before uvicorn has put its own handler in place (the application
still being built) makes the server stop as soon as it has started.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType, TracebackType


class Termination:
    """A context manager: SIGTERM inside it is noted (and passed to :meth:`stops`'s callback);
    on a clean exit after one, the process dies of SIGTERM."""

    def __init__(self) -> None:
        self.received = False
        self._stop: Callable[[], None] | None = None
        self._previous: Callable[[int, FrameType | None], object] | int | None = None

    def __enter__(self) -> Termination:
        self._previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        signal.signal(signal.SIGTERM, self._previous)
        if self.received and kind is None:
            # The exit status a process stopped by SIGTERM has (and had before this handler).
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.raise_signal(signal.SIGTERM)

    def stops(self, stop: Callable[[], None]) -> None:
        """Call ``stop`` on SIGTERM from now on, and at once if one came already."""
        self._stop = stop
        if self.received:
            stop()

    def _handle(self, number: int, frame: FrameType | None) -> None:
        self.received = True
        if self._stop is not None:
            self._stop()
