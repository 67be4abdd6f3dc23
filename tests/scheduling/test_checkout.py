"""completeCheckout: patient creation, sign-in requests, payments, and the race for a slot."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from tests.support.api import Api
from tests.support.db import count, outbox
from tests.support.scheduling import checkout, create_offering, create_type, future
from tests.support.world import World

from carebook.accounts.enrollment import CHECKOUT_EMAIL_UNUSABLE
from carebook.db.engine import Database
from carebook.scheduling.models import Appointment, BillingItem
from carebook.users.models import User


def _booking(world: World, type_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "appointment_type_id": type_id,
        "provider_id": str(world.a.provider.user_id),
        "date": future(days=3).isoformat(),
        "first_name": "Jonas",
        "last_name": "Salk",
        "email": "jonas.new@example.com",
        **extra,
    }


async def test_unauthenticated_checkout_creates_the_patient_and_the_booking(
    api: Api, world: World, database: Database
) -> None:
    type_id = await create_type(api.with_key(world.a.provider.api_key))
    users_before = await count(database, User)
    payload = await checkout(api, **_booking(world, type_id))
    assert payload["messages"] is None
    assert payload["patientEmail"] == "jonas.new@example.com"
    assert payload["appointment"]["user"]["email"] == "jonas.new@example.com"
    # Anonymous: the answer names no provider (tests/auth/test_open_sign_up.py).
    assert payload["appointment"]["provider"] is None
    assert payload["billingItem"] is None  # a free appointment type
    assert await count(database, User) == users_before + 1
    patient_id = int(payload["appointment"]["user"]["id"])
    assert (patient_id, "welcome") in await outbox(database)


async def test_an_existing_patient_email_books_nothing_and_emails_the_patient(
    api: Api, world: World, database: Database
) -> None:
    type_id = await create_type(api.with_key(world.a.provider.api_key))
    users_before = await count(database, User)
    payload = await checkout(api, **_booking(world, type_id, email="PATIENT.a@example.com"))
    assert payload["appointment"] is None
    # Not "an account exists": the patient is told by email (test_enrollment_oracle.py).
    assert payload["messages"] == [{"field": "email", "message": CHECKOUT_EMAIL_UNUSABLE}]
    assert await count(database, User) == users_before
    assert await count(database, Appointment) == 0
    assert (world.a.patient_id, "account_exists") in await outbox(database)


async def test_the_same_email_in_another_organization_is_a_new_patient(
    api: Api, world: World
) -> None:
    type_id = await create_type(api.with_key(world.a.provider.api_key))
    payload = await checkout(api, **_booking(world, type_id, email="patient.b@example.com"))
    assert payload["messages"] is None


async def test_a_signed_in_patient_books_for_themselves(api: Api, world: World) -> None:
    type_id = await create_type(api.with_key(world.a.provider.api_key))
    patient = api.with_token(world.a.patient_token)
    payload = await checkout(patient, **_booking(world, type_id, email=None))
    assert payload["messages"] is None
    assert payload["appointment"]["user"]["id"] == str(world.a.patient_id)
    other_org = {"provider_id": str(world.b.provider.user_id)}
    refused = await checkout(patient, **_booking(world, type_id, email=None, **other_org))
    assert refused["messages"] == [{"field": "provider_id", "message": "Provider not found"}]


async def test_buying_an_offering_charges_the_card_and_records_the_price(
    api: Api, world: World, database: Database
) -> None:
    offering_id = await create_offering(api.with_key(world.a.provider.api_key), price="300")
    base = {
        "offering_id": offering_id,
        "provider_id": str(world.a.provider.user_id),
        "email": "buyer@example.com",
        "first_name": "Bea",
        "last_name": "Buyer",
    }
    users_before = await count(database, User)
    no_card = await checkout(api, **base)
    assert no_card["messages"][0]["field"] == "token"
    declined = await checkout(api, **base, token="tok_decline_insufficient")
    assert declined["messages"] == [{"field": "token", "message": "Your card was declined"}]
    assert await count(database, BillingItem) == 0
    assert await count(database, User) == users_before  # nothing of the failed checkouts was kept
    paid = await checkout(api, **base, token="tok_visa")
    assert paid["messages"] is None
    assert paid["billingItem"]["amount_paid"] == "300.00"
    assert paid["billingItem"]["state"] == "succeeded"
    assert paid["billingItem"]["offering"]["id"] == offering_id


async def test_two_checkouts_racing_for_one_slot(
    api: Api, world: World, database: Database
) -> None:
    type_id = await create_type(api.with_key(world.a.provider.api_key))
    start = future(days=4).isoformat()
    first = _booking(world, type_id, date=start, email="racer.one@example.com")
    second = _booking(world, type_id, date=start, email="racer.two@example.com")
    results = await asyncio.gather(checkout(api, **first), checkout(api, **second))
    winners = [r for r in results if r["appointment"] is not None]
    losers = [r for r in results if r["appointment"] is None]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0]["messages"][0]["field"] in ("date", None)
    assert await count(database, Appointment) == 1


async def test_many_concurrent_bookings_never_double_book(
    api: Api, world: World, database: Database
) -> None:
    type_id = await create_type(api.with_key(world.a.provider.api_key), length=60)
    start = future(days=6)
    attempts = [
        _booking(
            world,
            type_id,
            date=(start + timedelta(minutes=15 * i)).isoformat(),
            email=f"racer.{i}@example.com",
        )
        for i in range(6)
    ]
    results = await asyncio.gather(*(checkout(api, **a) for a in attempts))
    booked = sorted(r["appointment"]["start"] for r in results if r["appointment"])
    # Six starts 15 minutes apart, 60-minute appointments: at most two fit (0 and 60 minutes).
    assert 1 <= len(booked) <= 2
    assert await count(database, Appointment) == len(booked)


async def test_staff_and_non_bookable_types_are_refused(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    type_id = await create_type(provider, ccb=False)
    anonymous = await checkout(api, **_booking(world, type_id))
    assert anonymous["messages"][0]["field"] == "appointment_type_id"
    staff = await checkout(provider, **_booking(world, type_id))
    assert staff["messages"][0]["message"].startswith("completeCheckout is for patients")
    missing = await checkout(api, provider_id=str(world.a.provider.user_id), email="x@example.com")
    assert missing["messages"][0]["field"] == "appointment_type_id"
