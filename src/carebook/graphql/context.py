"""The per-request context: who is calling, sessions, DataLoaders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from carebook.auth.actor import Actor
from carebook.auth.passwords import Passwords
from carebook.checkout.payments import PaymentProvider
from carebook.config import Settings
from carebook.db.engine import Database
from carebook.graphql.limits.fair_share import Ticket
from carebook.graphql.loaders import Loaders
from carebook.idempotency.keys import Claim
from carebook.search import SearchState
from carebook.users.models import User
from carebook.users.scoping import viewer_signing_in

if TYPE_CHECKING:
    from carebook.graphql.audit.request import RequestAudit

T = TypeVar("T")


@dataclass
class Context:
    """What every resolver can reach through ``info.context``."""

    request: Request | None
    response: Response | None
    settings: Settings
    database: Database
    passwords: Passwords
    # The patient list's caches: the app's one (carebook.search.state), shared by its requests.
    search: SearchState
    # The app's payment provider (CAREBOOK_PAYMENT_PROVIDER); None: paid checkouts are refused.
    payments: PaymentProvider | None = None
    actor: Actor | None = None
    # Set when credentials were sent but are invalid, expired or revoked.
    credentials_rejected: bool = False
    # Run inside every write transaction just before it commits (the audit trail and the
    # Idempotency-Key record go in the same transaction as the change they describe).
    before_commit: list[Callable[[AsyncSession], Awaitable[None]]] = field(default_factory=list)
    # Run after the answer was sent (carebook.app), for work whose duration the answer must
    # not show (resetPassword: a known address does more than an unknown one).
    after_answer: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # The Idempotency-Key of a mutation request (carebook.web.idempotency), claimed by write().
    idempotency: Claim | None = None
    # The request's audit trail state (carebook.graphql.audit.request); set by the app.
    audit: RequestAudit | None = None
    # The user a request signed in or created (signIn, signUp, completeCheckout): its answer
    # is that user's own, read as them whoever called (see ``viewer``).
    answering_for: Actor | None = None
    # The request's place in the loop's fair share (carebook.graphql.limits.fair_share).
    share_ticket: Ticket | None = None
    # Non-blocking notes to the caller, sent in extensions.warnings (graphql/warnings.py).
    warnings: list[dict[str, Any]] = field(default_factory=list)
    # The request's read session (Database.read_sessions), open from its first read to its end
    # or its first write. List reads on a replica open and close their own (``read``).
    _session: AsyncSession | None = field(default=None, repr=False)
    # Set once the request ended its reads (to write): later reads must see the latest commits.
    _fresh_only: bool = field(default=False, repr=False)
    # Sibling fields resolve concurrently, but a session runs one statement at a time.
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    # Set by ``release`` once the request is over and answered: no read may open a session then.
    _released: bool = field(default=False, repr=False)

    async def read(
        self, work: Callable[[AsyncSession], Awaitable[T]], *, may_lag: bool = False
    ) -> T:
        """Run ``work`` on the request's read session (opened on first use), one at a time.

        ``may_lag``: a list or search read that may miss the latest commits of other requests
        (docs/production.md, Read replica): it goes to the database's list sessions, unless this
        request has written, whose own write it must see. Without a replica that is the read
        session itself; with one, a list session of its own, closed when ``work`` is done.
        """
        if self._released:
            # A field graphql-core let finish in the background after the answer (a sibling
            # of one that failed): its session would never be closed, and hold a connection.
            raise RuntimeError("the request is over: no more reads")
        async with self._lock:
            if may_lag and not self._fresh_only and self.database.replica is not None:
                # Never kept for the rest of the request: a request holding a replica connection
                # while it waits for a primary one (or the other way round) could wait forever
                # on another doing the opposite once both pools are full. A list read is one
                # statement, and what it loads is complete (User's deferred columns raise
                # rather than load later), so nothing needs the session afterwards.
                async with self.database.list_sessions() as listing:
                    return await work(listing)
            session = self._session
            if session is None:
                session = self._session = self.database.read_sessions()
            return await work(session)

    async def end_read_transaction(self) -> None:
        """Close the read session so later reads see what a mutation has just committed (and
        read it where it was written: list reads no longer go to a replica)."""
        async with self._lock:
            self._fresh_only = True
            session, self._session = self._session, None
            if session is not None:
                await session.close()

    async def close(self) -> None:
        """Release the connections at the end of the request."""
        await self.end_read_transaction()

    def release(self) -> None:
        """Drop what refers back to this context, once the request is over and answered.

        Its DataLoaders (their holder refers to the context, their load functions are the
        holder's bound methods) and its deferred work would otherwise keep it, its request and
        everything its loaders loaded in reference cycles, freed only by a collection long
        after (docs/performance.md, "Requests freed when they end").
        """
        self._released = True
        loaders = self.__dict__.pop("loaders", None)
        if isinstance(loaders, Loaders):
            loaders.release()
        self.before_commit.clear()
        self.after_answer.clear()

    @property
    def viewer(self) -> Actor | None:
        """Who reads this request's answer: the user it signed in or created, else the caller.

        What each user in the answer shows is decided for this viewer (users/scoping.py).
        """
        return self.answering_for if self.answering_for is not None else self.actor

    async def answer_as(self, user: User, *, enrolling: bool = False) -> None:
        """The request signed ``user`` in or created them: its answer is read as theirs.

        ``enrolling``: an anonymous patient sign-up (users/scoping.py, follows_links). Their
        date-times are written in their zone, else their organization's (carebook/times.py).
        """
        organization = await self.loaders.organization.load(user.organization_id)
        self.answering_for = viewer_signing_in(
            user,
            enrolling=enrolling,
            organization_zone=organization.timezone if organization is not None else None,
        )

    @property
    def zone(self) -> tzinfo:
        """The time zone this request's answer writes date-times in (the viewer's)."""
        viewer = self.viewer
        return viewer.zone if viewer is not None else UTC

    @cached_property
    def loaders(self) -> Loaders:
        """The request's DataLoaders, built on first use."""
        return Loaders(self)
