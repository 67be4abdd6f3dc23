"""Mutations: appointment types (create, update, delete), createOffering, appointments
(create, update, delete), completeCheckout."""

import uuid

import strawberry
from strawberry.types import Info

from carebook.accounts.enrollment import CHECKOUT_EMAIL_UNUSABLE, AccountExists, Attempt
from carebook.checkout import appointment_emails
from carebook.checkout import service as checkout
from carebook.checkout.inputs import CheckoutRequest
from carebook.db.engine import writes_alone
from carebook.graphql.audit.enrollment import answered
from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.writes import audited_write
from carebook.graphql.common import require_actor, write
from carebook.graphql.context import Context
from carebook.graphql.duplicates.checks import recorded
from carebook.graphql.inputs import typed, value_of
from carebook.graphql.limits import rate
from carebook.graphql.payloads import Messages, Payload, Relay, messages_field, payload
from carebook.graphql.permissions import AllowAnyone, IsAuthenticated, IsStaff
from carebook.graphql.scheduling.inputs import (
    CompleteCheckoutInput,
    CreateAppointmentInput,
    CreateAppointmentTypeInput,
    CreateOfferingInput,
    DeleteAppointmentInput,
    DeleteAppointmentTypeInput,
    UpdateAppointmentInput,
    UpdateAppointmentSettingInput,
    UpdateAppointmentTypeInput,
)
from carebook.graphql.scheduling.types import (
    Appointment,
    AppointmentSetting,
    AppointmentType,
    BillingItem,
    Offering,
)
from carebook.scheduling import appointments, locations, service
from carebook.scheduling.inputs import (
    AppointmentChanges,
    AppointmentLocationEntry,
    AppointmentTypeChanges,
    NewAppointment,
    NewAppointmentType,
    NewOffering,
)
from carebook.users.models import User


@payload("createAppointmentType")
class CreateAppointmentTypePayload(
    Payload[AppointmentType], field="appointmentType", about="The appointment type."
):
    """The new appointment type, or why none was created."""


@payload("updateAppointmentType")
class UpdateAppointmentTypePayload(
    Payload[AppointmentType], field="appointmentType", about="The appointment type."
):
    """The changed appointment type, or why nothing changed."""


@payload("deleteAppointmentType")
class DeleteAppointmentTypePayload(
    Payload[AppointmentType], field="appointmentType", about="The deleted appointment type."
):
    """The deleted appointment type, or why nothing was deleted."""


@payload("deleteAppointment")
class DeleteAppointmentPayload(
    Payload[Appointment], field="appointment", about="The deleted appointment."
):
    """The deleted appointment, or why nothing was deleted."""


@payload("updateAppointmentSetting")
class UpdateAppointmentSettingPayload(
    Payload[AppointmentSetting], field="appointmentSetting", about="The appointment settings."
):
    """The organization's appointment settings after the change, or why nothing changed."""


@payload("createOffering")
class CreateOfferingPayload(Payload[Offering], field="offering", about="The offering."):
    """The new offering, or why none was created."""


@payload("createAppointment")
class CreateAppointmentPayload(Payload[Appointment], field="appointment", about="The appointment."):
    """The new appointment, or why none was booked."""


@payload("updateAppointment")
class UpdateAppointmentPayload(Payload[Appointment], field="appointment", about="The appointment."):
    """The changed appointment, or why nothing changed."""


@payload("completeCheckout")
class CompleteCheckoutPayload(Relay):
    """What the checkout booked and bought, or why nothing was."""

    appointment: Appointment | None = strawberry.field(description="The booked appointment.")
    billingItem: BillingItem | None = strawberry.field(description="The payment, if any.")
    patientEmail: str | None = strawberry.field(description="The email of the patient.")
    messages: Messages = messages_field()


def _created_patient(result: checkout.CheckoutResult | AccountExists, ctx: Context) -> User | None:
    """The patient an anonymous checkout created (AccountExists: none)."""
    if ctx.actor is not None or not isinstance(result, checkout.CheckoutResult):
        return None
    return result.patient


@strawberry.type
class SchedulingMutations:
    """Root mutation fields of scheduling and checkout."""

    @strawberry.mutation(
        description="Create an appointment type of the caller's organization.",
        permission_classes=[IsStaff],
    )
    async def createAppointmentType(
        self, info: Info[Context, None], input: CreateAppointmentTypeInput | None = None
    ) -> CreateAppointmentTypePayload | None:
        actor = require_actor(info)
        outcome = await write(
            info.context,
            lambda s: service.create_appointment_type(
                s, actor=actor, fields=typed(NewAppointmentType, input)
            ),
        )
        return CreateAppointmentTypePayload.answer(outcome, lambda row: AppointmentType(row=row))

    @strawberry.mutation(
        description="Update an appointment type: the fields given change.",
        permission_classes=[IsStaff],
    )
    async def updateAppointmentType(
        self, info: Info[Context, None], input: UpdateAppointmentTypeInput | None = None
    ) -> UpdateAppointmentTypePayload | None:
        actor = require_actor(info)
        outcome = await write(
            info.context,
            lambda s: service.update_appointment_type(
                s, actor=actor, fields=typed(AppointmentTypeChanges, input)
            ),
        )
        return UpdateAppointmentTypePayload.answer(outcome, lambda row: AppointmentType(row=row))

    @strawberry.mutation(
        description="Delete an appointment type: no longer listed or bookable; the "
        "appointments of it keep it.",
        permission_classes=[IsStaff],
    )
    async def deleteAppointmentType(
        self, info: Info[Context, None], input: DeleteAppointmentTypeInput | None = None
    ) -> DeleteAppointmentTypePayload | None:
        actor = require_actor(info)
        type_id = value_of(input, "id")
        outcome = await write(
            info.context,
            lambda s: service.delete_appointment_type(s, actor=actor, type_id=type_id),
        )
        return DeleteAppointmentTypePayload.answer(outcome, lambda row: AppointmentType(row=row))

    @strawberry.mutation(
        description="Update the organization's appointment settings: in Carebook, add, change "
        "and remove its appointment locations (all or nothing).",
        permission_classes=[IsStaff],
    )
    async def updateAppointmentSetting(
        self, info: Info[Context, None], input: UpdateAppointmentSettingInput | None = None
    ) -> UpdateAppointmentSettingPayload | None:
        actor = require_actor(info)
        entries = [
            typed(AppointmentLocationEntry, item)
            for item in value_of(input, "appointment_locations") or []
            if item is not None
        ]
        outcome = await write(
            info.context,
            lambda s: locations.write_locations(s, actor=actor, entries=entries),
        )
        return UpdateAppointmentSettingPayload.answer(
            outcome,
            lambda rows: AppointmentSetting(organization_id=actor.organization_id, locations=rows),
        )

    @strawberry.mutation(
        description="Create an offering of the caller's organization.", permission_classes=[IsStaff]
    )
    async def createOffering(
        self, info: Info[Context, None], input: CreateOfferingInput | None = None
    ) -> CreateOfferingPayload | None:
        actor = require_actor(info)
        outcome = await write(
            info.context,
            lambda s: service.create_offering(s, actor=actor, fields=typed(NewOffering, input)),
        )
        return CreateOfferingPayload.answer(outcome, lambda row: Offering(row=row))

    @strawberry.mutation(
        description="Book a patient with a provider. The provider must be free then.",
        permission_classes=[IsStaff],
    )
    @audited
    async def createAppointment(
        self, info: Info[Context, None], input: CreateAppointmentInput | None = None
    ) -> CreateAppointmentPayload | None:
        actor = require_actor(info)
        outcome = await audited_write(
            info,
            lambda s: appointment_emails.create_appointment(
                s, actor=actor, fields=typed(NewAppointment, input)
            ),
            action="update",
        )
        return CreateAppointmentPayload.answer(outcome, lambda row: Appointment(row=row))

    @strawberry.mutation(
        description="Delete an appointment: gone from every list, its slot free; "
        "appointment(id, include_deleted: true) still reads it.",
        permission_classes=[IsStaff],
    )
    @audited
    async def deleteAppointment(
        self, info: Info[Context, None], input: DeleteAppointmentInput | None = None
    ) -> DeleteAppointmentPayload | None:
        actor = require_actor(info)
        raw_id = value_of(input, "id")
        outcome = await audited_write(
            info,
            lambda s: appointments.delete_appointment(s, actor=actor, raw_id=raw_id),
            action="update",
        )
        return DeleteAppointmentPayload.answer(outcome, lambda row: Appointment(row=row))

    @strawberry.mutation(
        description="Update an appointment: status (pm_status 'Cancelled' cancels it), time, "
        "provider, type and details. A patient may cancel or confirm their own appointments.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def updateAppointment(
        self, info: Info[Context, None], input: UpdateAppointmentInput | None = None
    ) -> UpdateAppointmentPayload | None:
        actor = require_actor(info)
        outcome = await audited_write(
            info,
            lambda s: appointment_emails.update_appointment(
                s, actor=actor, fields=typed(AppointmentChanges, input)
            ),
            action="update",
        )
        return UpdateAppointmentPayload.answer(outcome, lambda row: Appointment(row=row))

    @strawberry.mutation(
        description="Book an appointment and/or buy an offering, unauthenticated or as a "
        "signed-in patient. Unauthenticated with a new email, it creates the patient.",
        permission_classes=[AllowAnyone],
    )
    @audited
    async def completeCheckout(
        self, info: Info[Context, None], input: CompleteCheckoutInput | None = None
    ) -> CompleteCheckoutPayload | None:
        ctx = info.context
        # One payment key for every try: write() re-runs a transaction that lost a race, and
        # the re-run must not charge the card a second time.
        fields = typed(CheckoutRequest, input, stripe_idempotency_key=uuid.uuid4().hex)
        await rate.before_checkout(ctx, fields)
        attempt = Attempt()
        # The card's capture, a remote call, runs inside the transaction: no group waits for it.
        with writes_alone():
            written = await audited_write(
                info,
                lambda s: recorded(
                    s,
                    checkout.complete_checkout(
                        s,
                        actor=ctx.actor,
                        passwords=ctx.passwords,
                        processor=ctx.payments,
                        fields=fields,
                        attempt=attempt,
                    ),
                    # Only a patient the checkout created: a signed-in one was checked before.
                    lambda result: _created_patient(result, ctx),
                ),
                action="update",
                aimed_at=attempt,
            )
        outcome = answered(info, written, CHECKOUT_EMAIL_UNUSABLE, action="update")
        result = outcome.value
        if result is None:
            return CompleteCheckoutPayload(
                appointment=None, billingItem=None, patientEmail=None, messages=outcome.messages
            )
        # The patient booked: the caller, or one just created. Created, the answer shows only
        # what they typed, as signUp's does: anyone may name any provider's sequential id.
        await ctx.answer_as(result.patient, enrolling=ctx.actor is None)
        return CompleteCheckoutPayload(
            appointment=Appointment(row=result.appointment) if result.appointment else None,
            billingItem=BillingItem(row=result.billing_item) if result.billing_item else None,
            patientEmail=result.patient.email,
            messages=outcome.messages,
        )
