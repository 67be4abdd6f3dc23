"""The delivery process's pace: all the CPU it wants while the application is quiet, a share
of one core while the application is writing in a burst.

On a small machine the delivery process shares the cores with the server, and what it costs
the requests follows the sends it makes while they run, whatever its priority: with the server
CPU-bound on one of two cores, sending beside it at some tens a second or more raised the
server's own CPU per request by 5-17 %, cheap sends or not, and by about 1 % when almost
nothing was sent until the burst ended (docs/webhooks.md, "aiohttp, and a pace during
bursts"). A burst of writes is when that hurts, and it is also when deliveries can wait a
little: each event is still delivered, tens of seconds later, and the backlog is caught up at full
speed once the burst is over.

A burst is told by the events the fan-out finds: ``BURST_EVENTS_PER_SECOND`` or more since the
last fan-out. During one, the worker claims new deliveries only while the process's CPU time
(all its threads) stays within ``share`` of the wall time since the burst began; past it, it
waits until it is back within. ``share`` is CAREBOOK_WEBHOOK_DELIVERY_BURST_CPU_SHARE; 1 turns
pacing off. A burst that lasts over ``LONGEST_BURST_SECONDS`` is the application's steady
load: pacing ends until the writes calm down. Only the delivery process paces itself: an
inline worker shares its process with the requests, whose CPU it cannot tell from its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# Events a second (as the fan-out counts them) from which the application is busy writing: far
# above a practice's steady rate (a write every few seconds), well below a burst of imports or
# an integration's sync.
BURST_EVENTS_PER_SECOND = 50.0
# A burst longer than this is the application's steady load, not a burst: deliveries then go
# at full speed again, so pacing delays them by minutes at most, never without end.
LONGEST_BURST_SECONDS = 120.0
# Most seconds of CPU the budget lets through at once: a burst's budget is counted from its
# start, and a long quiet spell inside a burst does not bank more than this.
MOST_BANKED_SECONDS = 0.5


class Pace:
    """Whether the worker may claim now, given the events it fans out and the CPU it uses."""

    def __init__(
        self,
        share: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        cpu: Callable[[], float] = time.process_time,
    ) -> None:
        self.share = share
        self._clock, self._cpu = clock, cpu
        self._fanned_at: float | None = None
        self._burst = False
        self._burst_began = 0.0
        self._allowed = 0.0  # CPU seconds the burst allows beyond what was used at its start
        self._counted_at = 0.0  # wall and CPU time when the allowance was last counted
        self._cpu_at = 0.0

    @property
    def in_burst(self) -> bool:
        """Whether the last fan-out found the application writing in a burst, begun less than
        ``LONGEST_BURST_SECONDS`` ago."""
        return self._burst and self._clock() - self._burst_began < LONGEST_BURST_SECONDS

    def fanned_out(self, events: int) -> None:
        """The fan-out found ``events`` new events since the last one."""
        now = self._clock()
        last, self._fanned_at = self._fanned_at, now
        if last is None or self.share >= 1:
            return
        burst = events / max(now - last, 1e-3) >= BURST_EVENTS_PER_SECOND
        if burst and not self._burst:  # a burst begins: the budget counts from here
            self._allowed, self._counted_at, self._cpu_at = 0.0, now, self._cpu()
            self._burst_began = now
        self._burst = burst

    def wait_seconds(self) -> float:
        """How long to wait before claiming more: 0 outside a burst, or within its budget."""
        if not self.in_burst:
            return 0.0
        now, cpu = self._clock(), self._cpu()
        earned = (now - self._counted_at) * self.share
        banked = min(self._allowed + earned, MOST_BANKED_SECONDS)
        self._allowed = banked - (cpu - self._cpu_at)
        self._counted_at, self._cpu_at = now, cpu
        return 0.0 if self._allowed >= 0 else -self._allowed / self.share
