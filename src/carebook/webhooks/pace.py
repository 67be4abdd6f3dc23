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

A burst is told by the events the application wrote (created since the last fan-out, not the
backlog a fan-out dispatches after a restart): ``BURST_EVENTS_PER_SECOND`` or more. During one,
the worker claims new deliveries only while the process's CPU time (all its threads: the
fan-out and the records of attempts, which are not held back, included) stays within ``share``
of the wall time since the burst began; past it, it waits until it is back within. ``share`` is
CAREBOOK_WEBHOOK_DELIVERY_BURST_CPU_SHARE; 1 turns pacing off. A burst lasts until the writes
have been calm for ``LONGEST_BURST_SECONDS`` (a shorter dip is part of it), and is paced for its
first ``LONGEST_BURST_SECONDS`` only: writes that go on longer are the application's steady
load, which deliveries must keep up with. Only the delivery process paces itself: an inline
worker shares its process with the requests, whose CPU it cannot tell from its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# Events a second (as the fan-out counts them) from which the application is busy writing: far
# above a practice's steady rate (a write every few seconds), well below a burst of imports or
# an integration's sync.
BURST_EVENTS_PER_SECOND = 50.0
# A burst is paced for this long at most, and ends only once the writes have been calm for as
# long: writes that go on (or keep coming back within it) are the application's steady load,
# and deliveries then go at full speed, so pacing delays them by minutes at most, never
# without end.
LONGEST_BURST_SECONDS = 120.0
# Most seconds of CPU the budget lets through at once: a burst's budget is counted from its
# start, and a long quiet spell inside a burst does not bank more than this.
MOST_BANKED_SECONDS = 0.5


class Pace:
    """Whether the worker may claim now, given the events written and the CPU it uses."""

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
        self._busy = False  # the last fan-out found the application writing in a burst
        self._burst_began = 0.0
        self._last_busy: float | None = None
        self._allowed = 0.0  # CPU seconds the burst allows beyond what was used at its start
        self._counted_at = 0.0  # wall and CPU time when the allowance was last counted
        self._cpu_at = 0.0

    @property
    def in_burst(self) -> bool:
        """Whether the application is writing in a burst begun less than
        ``LONGEST_BURST_SECONDS`` ago: the claims are paced."""
        return self._busy and self._clock() - self._burst_began < LONGEST_BURST_SECONDS

    def fanned_out(self, written: int) -> None:
        """A fan-out ran; the application wrote ``written`` events since the last one."""
        now = self._clock()
        last, self._fanned_at = self._fanned_at, now
        if last is None or self.share >= 1:
            return
        self._busy = written / max(now - last, 1e-3) >= BURST_EVENTS_PER_SECOND
        if not self._busy:
            return
        if self._last_busy is None or now - self._last_busy >= LONGEST_BURST_SECONDS:
            # A burst begins (the writes were calm long enough): its budget counts from here.
            self._burst_began = now
            self._allowed, self._counted_at, self._cpu_at = 0.0, now, self._cpu()
        self._last_busy = now

    def wait_seconds(self) -> float:
        """How long to wait before claiming more: 0 outside a paced burst, or within its
        budget."""
        if not self.in_burst:
            return 0.0
        now, cpu = self._clock(), self._cpu()
        earned = (now - self._counted_at) * self.share
        banked = min(self._allowed + earned, MOST_BANKED_SECONDS)
        self._allowed = banked - (cpu - self._cpu_at)
        self._counted_at, self._cpu_at = now, cpu
        # A deficit of a microsecond of CPU is none (floating-point dust from the sums above).
        return 0.0 if self._allowed > -1e-6 else -self._allowed / self.share
