"""The audit_events table, append-only: the ORM refuses to update or delete its rows.

The migration adds database triggers as well, so raw SQL cannot change a row either.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, event
from sqlalchemy.orm import Mapped, Mapper, ORMExecuteState, mapped_column

from carebook.db.base import Base
from carebook.db.session import CarebookSession
from carebook.db.types import UTCDateTime

# 64-bit ids on PostgreSQL (an audit table outgrows 2**31 rows); SQLite's rowid is 64-bit anyway.
EVENT_ID = BigInteger().with_variant(Integer(), "sqlite")


class AppendOnlyError(RuntimeError):
    """Raised when code tries to update or delete an audit event."""


class AuditEvent(Base):
    """One (event, record): a read or write of one patient record, allowed or refused."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_organization_id_occurred_at", "organization_id", "occurred_at"),
        Index(
            "ix_audit_events_organization_id_record_id_occurred_at",
            "organization_id",
            "record_id",
            "occurred_at",
        ),
        Index(
            "ix_audit_events_organization_id_actor_user_id_occurred_at",
            "organization_id",
            "actor_user_id",
            "occurred_at",
        ),
    )

    id: Mapped[int] = mapped_column(EVENT_ID, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The actor's organization (the record's for anonymous sign-ups); no foreign keys, so
    # inserts stay cheap and the trail outlives anything it mentions.
    organization_id: Mapped[int] = mapped_column(Integer)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str | None] = mapped_column(String(20))
    credential: Mapped[str | None] = mapped_column(String(20))
    operation: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int | None] = mapped_column(Integer)
    allowed: Mapped[bool] = mapped_column(Boolean)
    client_address: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(64))


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(_mapper: Mapper[Any], _connection: Any, _target: AuditEvent) -> None:
    raise AppendOnlyError("audit events are append-only")


@event.listens_for(CarebookSession, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    # update(AuditEvent) / delete(AuditEvent) statements never reach the mapper events above.
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is not None and getattr(table, "name", None) == AuditEvent.__tablename__:
        raise AppendOnlyError("audit events are append-only")
