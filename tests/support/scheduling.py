"""Helpers for the scheduling, checkout, conversation and notification tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.api import Api

CREATE_TYPE = """mutation($name: String, $length: Int, $pricing: String, $ccb: Boolean) {
  createAppointmentType(input: {name: $name, length: $length, pricing: $pricing,
                                clients_can_book: $ccb}) {
    appointmentType { id name length pricing clients_can_book } messages { field message } } }"""

CREATE_OFFERING = """mutation($name: String, $price: String) {
  createOffering(input: {name: $name, price: $price}) {
    offering { id name price billing_frequency } messages { field message } } }"""

CREATE_APPOINTMENT = """mutation($user_id: String, $providers: String, $type: String,
  $datetime: String, $timezone: String) {
  createAppointment(input: {user_id: $user_id, providers: $providers, appointment_type_id: $type,
                            datetime: $datetime, timezone: $timezone}) {
    appointment { id date start end length timezone_abbr pm_status
                  provider { id } user { id } appointment_type { id name } }
    messages { field message } } }"""

CANCEL = """mutation($id: ID) { updateAppointment(input: {id: $id, pm_status: "Cancelled"}) {
  appointment { id pm_status } messages { field message } } }"""

CHECKOUT = """mutation completeCheckout($appointment_type_id: String, $provider_id: String,
  $date: String, $timezone: String, $email: String, $first_name: String, $last_name: String,
  $offering_id: String, $token: String) {
  completeCheckout(input: {appointment_type_id: $appointment_type_id, provider_id: $provider_id,
    date: $date, timezone: $timezone, email: $email, first_name: $first_name,
    last_name: $last_name, offering_id: $offering_id, token: $token}) {
    appointment { id start user { id email } provider { id } }
    billingItem { id amount_paid state offering { id name } }
    patientEmail
    messages { field message } } }"""

NEXT_APPT = "query($id: ID) { user(id: $id, clear_notifs: false) { id next_appt_date } }"


def future(days: int = 3, hour: int = 15) -> datetime:
    """A whole hour some days from now, in UTC."""
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return (base + timedelta(days=days)).replace(hour=hour)


async def create_type(api: Api, name: str = "Initial consult", length: int = 60, **kw: Any) -> str:
    """An appointment type through the API; its id."""
    variables = {"name": name, "length": length, **kw}
    payload = (await api.data(CREATE_TYPE, variables))["createAppointmentType"]
    assert payload["messages"] is None, payload
    type_id: str = payload["appointmentType"]["id"]
    return type_id


async def create_offering(api: Api, name: str = "Six-week programme", price: str = "300") -> str:
    """An offering through the API; its id."""
    payload = (await api.data(CREATE_OFFERING, {"name": name, "price": price}))["createOffering"]
    assert payload["messages"] is None, payload
    offering_id: str = payload["offering"]["id"]
    return offering_id


async def checkout(api: Api, **variables: Any) -> dict[str, Any]:
    """The completeCheckout payload."""
    payload: dict[str, Any] = (await api.data(CHECKOUT, variables))["completeCheckout"]
    return payload


# Documents in the image of Awell's Healthie extension (extensions/healthie/lib/sdk/...): the
# same operations, arguments and variable types its actions send.
AWELL_CREATE = """mutation createAppointment($user_id: String, $appointment_type_id: String,
  $contact_type: String, $other_party_id: String, $datetime: String, $metadata: JSON,
  $notes: String, $external_videochat_url: String) {
  createAppointment(input: {user_id: $user_id, appointment_type_id: $appointment_type_id,
    contact_type: $contact_type, other_party_id: $other_party_id, datetime: $datetime,
    metadata: $metadata, notes: $notes, external_videochat_url: $external_videochat_url}) {
    appointment { id } messages { field message } } }"""

AWELL_UPDATE = """mutation updateAppointment($input: updateAppointmentInput!) {
  updateAppointment(input: $input) { appointment { id date } messages { field message } } }"""

AWELL_DELETE = """mutation deleteAppointment($id: ID, $deleteRecurring: Boolean) {
  deleteAppointment(input: { id: $id, deleteRecurring: $deleteRecurring }) {
    appointment { id } messages { field message } } }"""

AWELL_GET = """query getAppointment($id: ID, $include_deleted: Boolean = false) {
  appointment(id: $id, include_deleted: $include_deleted) {
    id date contact_type pm_status provider { id full_name } user { id full_name }
    appointment_type { id name } } }"""

AWELL_SCHEDULED = """query getScheduledAppointments($user_id: ID, $appointment_type_id: ID) {
  appointments(user_id: $user_id, filter_by_appointment_type_id: $appointment_type_id,
    is_active: true, should_paginate: false, filter: "future") { id } }"""
