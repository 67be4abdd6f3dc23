"""The one conversion of a Strawberry input to a service's typed input: null means absent."""

from __future__ import annotations

import strawberry

from carebook.checkout.inputs import CheckoutRequest
from carebook.graphql.common import provided
from carebook.graphql.inputs import typed, value_of
from carebook.graphql.scheduling.inputs import CompleteCheckoutInput
from carebook.graphql.users.inputs import UpdateClientInput, UpdateUserInput
from carebook.users.inputs import ClientChanges, UserChanges


def test_a_value_is_kept_and_null_and_omitted_fields_are_both_absent() -> None:
    data = UpdateClientInput(id=strawberry.ID("7"), legal_name=None, first_name="Ada")
    assert typed(ClientChanges, data) == ClientChanges(id="7", first_name="Ada")


def test_falsy_values_are_values_not_absence() -> None:
    data = UpdateClientInput(user_group_id="", active=False, other_provider_ids=[])
    changes = typed(ClientChanges, data)
    assert (changes.user_group_id, changes.active, changes.other_provider_ids) == ("", False, [])


def test_no_input_at_all_is_every_field_absent() -> None:
    assert typed(ClientChanges, None) == ClientChanges()


def test_a_field_the_graphql_input_lacks_stays_absent() -> None:
    # updateUser has no dietitian_id: a patient cannot move themselves to another provider.
    changes = typed(UserChanges, UpdateUserInput(first_name="Ada"))
    assert (changes.first_name, changes.dietitian_id, changes.active) == ("Ada", None, None)


def test_extra_fields_fill_in_and_the_client_wins() -> None:
    made = typed(CheckoutRequest, CompleteCheckoutInput(), stripe_idempotency_key="made")
    sent = CompleteCheckoutInput(stripe_idempotency_key="sent", email=None)
    assert made.stripe_idempotency_key == "made"
    assert typed(CheckoutRequest, sent, stripe_idempotency_key="made").stripe_idempotency_key == (
        "sent"
    )
    assert typed(CheckoutRequest, None, stripe_idempotency_key="made") == made


def test_single_fields_and_the_mapping_form_follow_the_same_rule() -> None:
    data = UpdateClientInput(id=strawberry.ID("7"), legal_name=None, active=False)
    assert (value_of(data, "id"), value_of(data, "legal_name"), value_of(data, "dob")) == (
        "7",
        None,
        None,
    )
    assert value_of(None, "id") is None
    assert provided(data) == {"id": "7", "active": False}
