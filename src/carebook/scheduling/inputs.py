"""Typed inputs of the scheduling services (scheme: carebook.graphql.inputs).

``None`` is a field the caller did not give. Ids are raw (``str`` from GraphQL, ``int`` from
code) and checked by the service; prices are text such as "99.50"; times are ISO 8601 text.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class NewAppointmentType:
    """``createAppointmentType``: name and length required; ``clients_can_book`` defaults on."""

    name: str | None = None
    length: int | None = None
    pricing: str | None = None
    clients_can_book: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewOffering:
    """``createOffering``: name required; the billing frequency defaults to "Once"."""

    name: str | None = None
    price: str | None = None
    billing_frequency: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewAppointment:
    """``createAppointment``: a patient booked with ``providers`` (default: the caller)."""

    user_id: str | int | None = None
    providers: str | int | None = None
    appointment_type_id: str | int | None = None
    datetime: str | None = None
    timezone: str | None = None
    contact_type: str | None = None
    notes: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AppointmentChanges:
    """``updateAppointment``: a new status; ``datetime`` (rescheduling) is refused."""

    id: str | int | None = None
    pm_status: str | None = None
    datetime: str | None = None
