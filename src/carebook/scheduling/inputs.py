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
class AppointmentTypeChanges:
    """``updateAppointmentType``: the fields given change; the others stay."""

    id: str | int | None = None
    name: str | None = None
    length: int | None = None
    pricing: str | None = None
    clients_can_book: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AppointmentDetails:
    """The fields createAppointment and updateAppointment share (Healthie's names).

    ``metadata`` is any JSON value (Healthie's ``JSON`` scalar), kept as given. The start is
    ``datetime``, or else ``date`` plus ``time``, in ``timezone`` when it has no offset.
    """

    other_party_id: str | int | None = None
    providers: str | int | None = None
    attendee_ids: str | None = None
    appointment_type_id: str | int | None = None
    appointment_location_id: str | None = None
    datetime: str | None = None
    date: str | None = None
    time: str | None = None
    timezone: str | None = None
    contact_type: str | None = None
    notes: str | None = None
    location: str | None = None
    external_videochat_url: str | None = None
    metadata: object | None = None
    pm_status: str | None = None
    client_confirmed: bool | None = None
    confirmed: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewAppointment(AppointmentDetails):
    """``createAppointment``: a patient (``user_id`` or one of ``attendee_ids``) booked with
    ``other_party_id`` or ``providers`` (default: the caller)."""

    user_id: str | int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AppointmentChanges(AppointmentDetails):
    """``updateAppointment``: a new status, time (rescheduling), provider or details."""

    id: str | int | None = None
    user_id: str | int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AppointmentLocationEntry:
    """One entry of ``updateAppointmentSetting``'s ``appointment_locations``: without ``id`` a
    new location; with ``id`` a change, or with ``_destroy`` its removal."""

    id: str | int | None = None
    location: str | None = None
    clients_can_book: bool | None = None
    destroy: bool | None = None
