"""The audit state of one request: where it came from, and events not yet stored."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from carebook.audit.service import PATIENT, EventRow, Origin
from carebook.audit.trail import given_request_id, request_origin
from carebook.audit.writer import AuditWriter
from carebook.auth.actor import Actor
from carebook.client_address import client_address
from carebook.graphql.context import Context


@dataclass(slots=True)
class RequestAudit:
    """The request's audit state: where it came from, and events not yet handed on."""

    writer: AuditWriter
    wait: bool
    client_address: str | None
    request_id: str
    pending: list[EventRow] = field(default_factory=list)
    # Response key (an alias or the name) -> root field name, worked out once per request.
    root_names: dict[str, str] = field(default_factory=dict)
    # Patient records this request's trail recorded as allowed (reads and writes), as
    # (organization_id, record_id, operation): an Idempotency-Key replay of its answer hands
    # them out again, so the replay records them again (carebook.idempotency.answer).
    disclosed: dict[tuple[int, int, str], None] = field(default_factory=dict)
    # Reads already recorded, as (organization_id, record_type, record_id, operation, allowed):
    # a patient reached many times in one answer (each listed patient's user_group { users })
    # is one event, so the trail grows with the records read, not with the answer's size.
    reads_seen: set[tuple[int, str, int | None, str, bool]] = field(default_factory=set)

    @classmethod
    def for_request(cls, writer: AuditWriter, *, wait: bool, request: Any) -> RequestAudit:
        """The state of one HTTP request (a client's X-Request-ID is kept when sane)."""
        given = given_request_id(request.scope, request.headers) if request is not None else ""
        origin = request_origin(None, client_address(request), given)
        return cls(
            writer=writer,
            wait=wait,
            client_address=origin.client_address,
            request_id=origin.request_id,
        )

    def note_disclosed(self, rows: Iterable[EventRow]) -> None:
        """Remember the patients of allowed events (the answer or the write holds them)."""
        for row in rows:
            if row["allowed"] and row["record_type"] == PATIENT and row["record_id"] is not None:
                self.disclosed[(row["organization_id"], row["record_id"], row["operation"])] = None

    def first_reads(self, rows: Iterable[EventRow]) -> list[EventRow]:
        """The read events of ``rows`` not yet recorded by this request (one per record)."""
        fresh: list[EventRow] = []
        for row in rows:
            key = (
                row["organization_id"],
                row["record_type"],
                row["record_id"],
                row["operation"],
                row["allowed"],
            )
            if key not in self.reads_seen:
                self.reads_seen.add(key)
                fresh.append(row)
        return fresh

    def note_written(self, rows: Iterable[EventRow]) -> None:
        """Count the patients of allowed write events as read by their operation.

        A mutation's payload returns the patients it changed: the write's event (update,
        create, ...) already records that access, so its read is not recorded again (signIn
        with a reset token is an update of the patient, not also an anonymous read).
        """
        for row in rows:
            if row["allowed"] and row["record_id"] is not None:
                key = (
                    row["organization_id"],
                    row["record_type"],
                    row["record_id"],
                    row["operation"],
                    True,
                )
                self.reads_seen.add(key)

    def read_recorded(self, actor: Actor | None, user_id: int, operation: str) -> bool:
        """Whether an allowed read of patient ``user_id`` is already recorded for ``operation``.

        An anonymous caller's events belong to the record's organization, unknown before the
        row is loaded: never known here.
        """
        if actor is None:
            return False
        key = (actor.organization_id, PATIENT, user_id, operation, True)
        return key in self.reads_seen

    async def flush(self) -> None:
        """Hand the pending events to the writer; wait for their commit unless configured not to."""
        rows, self.pending = self.pending, []
        waiter = self.writer.submit(rows, wait=self.wait)
        if waiter is not None:
            await waiter


def origin_of(context: Context, audit: RequestAudit) -> Origin:
    """Who is asking in this request, and from where."""
    return Origin(context.actor, audit.client_address, audit.request_id)
