"""The location (address) table."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db import lengths
from carebook.db.base import Base, Timestamped


class Location(Timestamped, Base):
    """An address of a user (a patient's home, a provider's practice location).

    ``organization_id`` is the owner's, stored on the row so that a look-up by id can be scoped
    without a join.
    """

    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(lengths.LOCATION_TEXT["name"]))
    line1: Mapped[str | None] = mapped_column(String(lengths.LOCATION_TEXT["line1"]))
    line2: Mapped[str | None] = mapped_column(String(lengths.LOCATION_TEXT["line2"]))
    city: Mapped[str | None] = mapped_column(String(lengths.LOCATION_TEXT["city"]))
    state: Mapped[str | None] = mapped_column(String(lengths.LOCATION_TEXT["state"]))
    zip: Mapped[str | None] = mapped_column(String(lengths.LOCATION_TEXT["zip"]))
    country: Mapped[str] = mapped_column(String(2), default="US")
    npi: Mapped[str | None] = mapped_column(String(10))
    other_id: Mapped[str | None] = mapped_column(String(lengths.LOCATION_TEXT["other_id"]))
    other_id_qual: Mapped[str | None] = mapped_column(
        String(lengths.LOCATION_TEXT["other_id_qual"])
    )
    place_of_service_id: Mapped[str | None] = mapped_column(
        String(lengths.LOCATION_TEXT["place_of_service_id"])
    )
