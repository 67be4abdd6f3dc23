"""A patient's row as a plain object: what an import checks and writes instead of ORM objects.

The field rules (``apply_changes``) set attributes on it as on a ``User``; the batch writes the
records with Core statements (carebook/imports/writes.py). A plain object costs no attribute
instrumentation, no identity map and no unit of work: on a 1,000-row batch those were most of
the ORM flush's time (docs/import.md, "Speed").

Its attributes are the ``User`` mapping's attribute keys (``user_metadata``, not the column's
name ``metadata``), every column present, so that a record is the row.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, inspect, select
from sqlalchemy.sql import Select

from carebook.auth.roles import Role
from carebook.users.models import User

# (attribute key, column) of every column of the users table, in the table's order.
COLUMNS: tuple[tuple[str, ColumnElement[Any]], ...] = tuple(
    (attribute.key, attribute.columns[0]) for attribute in inspect(User).column_attrs
)
KEYS: tuple[str, ...] = tuple(key for key, _ in COLUMNS)
# A new patient before the rules set its fields: the columns' defaults, None for the rest.
_NEW: dict[str, Any] = {
    **dict.fromkeys(KEYS),
    "role": Role.PATIENT.value,
    "first_name": "",
    "last_name": "",
    "skipped_email": False,
    "active": True,
}


class PatientRecord:
    """One patient's column values, by ``User`` attribute key (see the module's docstring)."""

    id: int | None
    organization_id: int
    role: str
    first_name: str
    last_name: str
    legal_name: str | None
    email: str | None
    email_key: str | None
    skipped_email: bool
    phone_number: str | None
    additional_phone_number: str | None
    quick_notes: str | None
    height: float | None
    weight: float | None
    human_id: str | None
    preferred_language_code: str | None
    dob: date | None
    timezone: str | None
    user_metadata: str | None
    record_identifier: str | None
    npi: str | None
    dietitian_id: int | None
    user_group_id: int | None
    merged_into_id: int | None
    active: bool
    archived_at: datetime | None
    password_hash: str | None
    created_at: datetime | None
    updated_at: datetime | None

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)

    @classmethod
    def new(cls, organization_id: int) -> PatientRecord:
        """A patient not written yet (no id until the batch reserves one)."""
        record = cls(_NEW)
        record.organization_id = organization_id
        return record

    @property
    def is_patient(self) -> bool:
        """True for patients (the look-ups also hold staff who own a record identifier)."""
        return self.role == Role.PATIENT

    def values(self) -> dict[str, Any]:
        """A copy of the column values (a snapshot to compare with or to restore)."""
        return dict(self.__dict__)

    def restore(self, values: Mapping[str, Any]) -> None:
        """Put back a snapshot taken with :meth:`values`."""
        self.__dict__.clear()
        self.__dict__.update(values)

    def changed(self, before: Mapping[str, Any]) -> list[str]:
        """The attribute keys whose values differ from ``before`` (as the ORM's history
        compares: a field set to its current value is no change)."""
        now = self.__dict__
        return [key for key in KEYS if now[key] != before[key]]


def select_records() -> Select[Any]:
    """Every column of users, labelled with its attribute key (a WHERE is added by the caller)."""
    return select(*(column.label(key) for key, column in COLUMNS))


def record_of(row: Any) -> PatientRecord:
    """A record from a row of :func:`select_records`."""
    return PatientRecord(row._mapping)
