"""Requested form completions (Healthie's ``RequestedFormCompletion``), minimal."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db import lengths
from carebook.db.base import Base, Timestamped


class FormRequestStatus(enum.StrEnum):
    """Where a requested form stands (Carebook has no form filling yet: it stays not started)."""

    NOT_STARTED = "Not Started"
    COMPLETED = "Completed"


class RequestedFormCompletion(Timestamped, Base):
    """A form a provider asked a patient to fill in."""

    __tablename__ = "requested_form_completions"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The form template's id in the practice's form builder (not modelled by Carebook).
    custom_module_form_id: Mapped[str] = mapped_column(String(lengths.FORM_ID))
    item_type: Mapped[str] = mapped_column(String(40), default="CustomModuleForm")
    status: Mapped[str] = mapped_column(String(40), default=FormRequestStatus.NOT_STARTED)
