"""The record of a mutation's Idempotency-Key."""

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db.base import Base, utcnow
from carebook.db.types import UTCDateTime


class IdempotencyKey(Base):
    """One key of one caller: inserted in the mutation's own transaction, answer stored after.

    The unique (scope, key_digest) pair is what makes a concurrent or retried duplicate fail
    instead of writing twice. Neither the key nor the answer is readable from the table alone:
    ``key_digest`` is an HMAC of the key and ``response_body`` is encrypted with a key derived
    from the client's key (see carebook.idempotency.keys).
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key_digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "user:<id>" for a signed-in caller, "anonymous" otherwise.
    scope: Mapped[str] = mapped_column(String(40))
    key_digest: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the canonical (query, variables, operationName): same key, other request = misuse.
    request_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # Null until the answer is stored (request in flight, or the server died in between).
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
