"""Costly documents give the event loop up to cheap ones (issue 22, item 2).

One worker runs every request on one event loop, and graphql-core completes a level of a
document (every object of every list at that depth) in one run of the loop. Measured with
scripts/nested_list_load.py: two clients looping the widest documents the cost limit accepts
(0.2-1 s of CPU each) pushed another client's one-patient read from 2 ms to 0.8-1.6 s at p99:
each of that read's loop turns waited behind a whole level of the wide documents.

So every request counts as *light* from its arrival until its cost is known (the estimate of
:mod:`.cost`); a document estimated above ``HEAVY_COST`` objects becomes *heavy*. A heavy
request's async resolvers take a turn before they start and before their value is completed
(:class:`HeavyPacing`): heavy work runs in slices of ``SLICE_SECONDS`` per loop turn, so the
loop reads its sockets between slices, and while a light request is in flight no heavy
resolver is let through at all. A light request then waits for at most the slice already
running. Slices are cut only when requests overlap (see ``turn``). A heavy
request is never refused or cut short, only paused; so that a steady stream
of light requests cannot starve it, the gate stays shut at most ``HOLD_SECONDS`` at a time,
then opens for ``OPEN_SECONDS``. Work outside resolvers (a DataLoader's statement, encoding the
answer) is not sliced: those steps are kept short where they are.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from graphql import GraphQLResolveInfo, MiddlewareManager

# A page of 100 patients with a nested object is heavy; a single patient, a form or a
# conversation is not. Heavy documents still run: this only orders the loop's turns.
HEAVY_COST = 100
# Long enough for a light request's own work (a few ms, tens under load); short enough that
# a heavy request under a stream of light ones still gets a fifth of the loop.
HOLD_SECONDS = 0.2
OPEN_SECONDS = 0.05
# Heavy work between two polls of the loop's sockets, and resolvers woken per loop turn.
SLICE_SECONDS = 0.005
RELEASE_BATCH = 256
# How long after requests last overlapped heavy work is still sliced: an attacker looping one
# document at a time leaves gaps between its requests, and a giant loop turn in a gap is what
# the next light request waits behind.
CONCURRENT_SECONDS = 1.0


class LoopShare:
    """The light requests in flight in this process, and the queue heavy resolvers wait in.

    Heavy work runs in slices of at most ``SLICE_SECONDS`` a loop turn (checked at resolvers'
    turns): past it, a heavy resolver parks in a queue that is released a batch per loop turn,
    so the loop polls its sockets between slices and a light request's turn comes within a
    slice. While a light request is in flight, no heavy resolver is released at all.
    """

    def __init__(self) -> None:
        self.light = 0
        self.in_flight = 0
        self.hold_seconds, self.open_seconds = HOLD_SECONDS, OPEN_SECONDS
        self._concurrent_until = 0.0
        self._shut = False
        self._timer: asyncio.TimerHandle | None = None
        # (place in line, waiter): a resolver woken within a slice already spent waits again
        # with the place it first took, ahead of every later one (FIFO, see ``turn``).
        self._waiting: list[tuple[int, asyncio.Future[None]]] = []
        self._places = itertools.count()
        self._slice_start = 0.0
        self._release_scheduled = False

    def arrive(self) -> Ticket:
        """A request has arrived: light until its cost says otherwise."""
        self.in_flight += 1
        if self.in_flight > 1:
            self._concurrent_until = time.perf_counter() + CONCURRENT_SECONDS
        self.light += 1
        if self.light == 1 and not self._shut:
            self._close()
        return Ticket(self)

    def _leave_light(self) -> None:
        self.light -= 1
        if self.light == 0:
            self._cancel_timer()
            self._open()

    def _close(self) -> None:
        self._shut = True
        self._cancel_timer()
        self._timer = asyncio.get_running_loop().call_later(self.hold_seconds, self._force_open)

    def _open(self) -> None:
        self._shut = False
        self._schedule_release()

    def _force_open(self) -> None:
        # Light requests have held the gate for HOLD_SECONDS: heavy ones run for a while.
        self._open()
        self._timer = asyncio.get_running_loop().call_later(self.open_seconds, self._reclose)

    def _reclose(self) -> None:
        self._timer = None
        if self.light > 0:
            self._close()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _schedule_release(self) -> None:
        if self._waiting and not self._release_scheduled:
            self._release_scheduled = True
            asyncio.get_running_loop().call_soon(self._release)

    def _release(self) -> None:
        # Runs once a loop turn while resolvers wait: a fresh slice, and a batch of them woken
        # (they run next turn, after this turn's sockets have been read).
        self._release_scheduled = False
        if self._shut:
            return
        loop = asyncio.get_running_loop()
        loop.call_soon(self._start_slice)
        for _ in range(min(RELEASE_BATCH, len(self._waiting))):
            _place, waiter = heapq.heappop(self._waiting)
            if not waiter.done():
                waiter.set_result(None)
        self._schedule_release()

    @property
    def waiting(self) -> int:
        """Heavy resolvers waiting for their turn."""
        return sum(1 for _place, waiter in self._waiting if not waiter.done())

    def _start_slice(self) -> None:
        self._slice_start = time.perf_counter()

    async def turn(self) -> None:
        """Return at once when no light request is in flight and the slice is not over.

        Slices are cut only while requests overlap or did within ``CONCURRENT_SECONDS``: a
        request alone is not sliced, which would only split its DataLoader batches (a batch
        holds the loads of one loop turn) into more statements.

        A resolver keeps the place in line it took when it first waited: released in a batch
        but finding the slice already spent by those before it, it waits again ahead of every
        resolver that came after it. (At the back of the line, as it once was, a few
        resolvers went round again and again behind newer ones: with 64 clients all sending
        heavy documents, p99s of 2-2.8 s behind medians of 55 ms.)
        """
        place: int | None = None
        while self._shut or (
            time.perf_counter() - self._slice_start > SLICE_SECONDS
            and (self.in_flight > 1 or time.perf_counter() < self._concurrent_until)
        ):
            if place is None:
                place = next(self._places)
            waiter = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiting, (place, waiter))
            self._schedule_release()
            await waiter


class Ticket:
    """One request's place in the share: light, then possibly heavy, then gone."""

    def __init__(self, share: LoopShare) -> None:
        self.share = share
        self.heavy = False
        self._left = False

    def become_heavy(self) -> None:
        """The request's document is costly: it stops counting as light."""
        if not self.heavy and not self._left:
            self.heavy = True
            self.share._leave_light()

    def leave(self) -> None:
        """The request is answered."""
        if not self._left:
            self._left = True
            self.share.in_flight -= 1
            if not self.heavy:
                self.share._leave_light()


def request_ticket(context: Any) -> Ticket | None:
    """The ticket the app gave the request (``Context.share_ticket``), if any."""
    ticket = getattr(context, "share_ticket", None)
    return ticket if isinstance(ticket, Ticket) else None


class HeavyPacing(MiddlewareManager):
    """Makes a heavy request's async resolvers wait for their turn (see :class:`LoopShare`).

    graphql-core's middleware, decided once per request: a light request's resolvers run
    unwrapped. (A Strawberry extension with a ``resolve`` hook wrapped every field of every
    request, plain attributes included, though only heavy ones are ever paced: about a fifth of
    the CPU of a page of users.) The request's cost is known before its first field is resolved
    (``DocumentLimits.on_execute``), and a request never becomes light again.
    """

    def __init__(self, context: Any) -> None:
        super().__init__()
        self._context: Any = context
        self._decided = False

    def get_field_resolver(self, field_resolver: Callable[..., Any]) -> Callable[..., Any]:
        """``field_resolver`` itself, or paced when the request is heavy."""
        if not self._decided:
            self._decided = True
            ticket = request_ticket(self._context)
            if ticket is not None and ticket.heavy:
                self._middleware_resolvers = [_pace]
        return super().get_field_resolver(field_resolver)


def _pace(
    _next: Callable[..., Any], root: Any, info: GraphQLResolveInfo[Any], *args: Any, **kwargs: Any
) -> Any:
    result = _next(root, info, *args, **kwargs)
    ticket = request_ticket(info.context)
    if ticket is None or not isinstance(result, Awaitable):
        return result
    return _paced(ticket.share, result)


async def _paced(share: LoopShare, result: Awaitable[Any]) -> Any:
    await share.turn()
    value = await result
    await share.turn()  # graphql-core completes the value (its sync fields) after this
    return value
