"""One counter per (hashed key, time window)."""

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db.base import Base


class RateLimitCounter(Base):
    """How many hits a key has had in one fixed window.

    ``key_digest`` is an HMAC of the limit's name and its subject (an email, a client address):
    both are personal data and never stored plainly. Windows and expiry are integer epoch
    seconds, the same on SQLite and PostgreSQL.
    """

    __tablename__ = "rate_limit_counters"

    key_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_index: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
