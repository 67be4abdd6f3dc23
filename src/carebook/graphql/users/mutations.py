"""Patient mutations: createClient, updateClient, updateUser, bulkUpdateClients."""

import strawberry
from strawberry.types import Info

from carebook.accounts import service
from carebook.accounts.own_email import OWN_EMAIL_UNUSABLE
from carebook.db.engine import writes_alone
from carebook.graphql.audit.enrollment import answered
from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.writes import attempted_ids, audited_write
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.duplicates.checks import CreationCheck, checked_creation, warn_duplicates
from carebook.graphql.inputs import typed, value_of
from carebook.graphql.locations.inputs import client_locations
from carebook.graphql.payloads import Payload, payload
from carebook.graphql.permissions import IsAuthenticated, IsStaff
from carebook.graphql.users.columns import selected_columns_under
from carebook.graphql.users.inputs import (
    BulkUpdateClientsInput,
    CreateClientInput,
    UpdateClientInput,
    UpdateUserInput,
)
from carebook.graphql.users.types import User, user_or_none
from carebook.graphql.warnings import ACTIVE_STATUS_IGNORED, warn
from carebook.users.activation import Invitations
from carebook.users.inputs import BulkClientChanges, ClientChanges, NewClient, UserChanges
from carebook.users.trail import status_action


@payload("createClient")
class CreateClientPayload(Payload[User], field="user", about="The created patient."):
    """The new patient, or why none was created."""


@payload("updateClient")
class UpdateClientPayload(Payload[User], field="user", about="The patient."):
    """The updated patient, or why nothing changed."""


@payload("updateUser")
class UpdateUserPayload(Payload[User], field="user", about="The user."):
    """The updated user, or why nothing changed."""


@payload("bulkUpdateClients")
class BulkUpdateClientsPayload(
    Payload[list[User | None]], field="users", about="The updated patients."
):
    """The updated patients, or why none changed."""


def _bulk_action(fields: BulkClientChanges) -> str:
    """The audit action of a bulk update: archiving and reactivating are their own."""
    if fields.user_group_id is not None or fields.active_status is None:
        return "update"
    return status_action(fields.active_status)


@strawberry.type
class UserMutations:
    """Root mutation fields of the patient record."""

    @strawberry.mutation(
        description="Create a Client (a patient) in the caller's practice.",
        permission_classes=[IsStaff],
    )
    @audited
    async def createClient(
        self, info: Info[Context, None], input: CreateClientInput | None = None
    ) -> CreateClientPayload | None:
        ctx, actor = info.context, require_actor(info)
        duplicates = CreationCheck()
        outcome = await audited_write(
            info,
            lambda s: checked_creation(
                s,
                service.create_client(
                    s,
                    actor=actor,
                    passwords=ctx.passwords,
                    fields=typed(NewClient, input),
                    invitations=Invitations.from_settings(ctx.settings),
                ),
                block_strong=ctx.settings.duplicates_block_strong,
                check=duplicates,
            ),
            action="create",
        )
        warn_duplicates(info, outcome.value, duplicates)
        return CreateClientPayload(
            value=user_or_none(outcome.value, info.context.viewer), messages=outcome.messages
        )

    @strawberry.mutation(
        description="Update Client. Email-trigger inputs take precedence over other changes.",
        permission_classes=[IsStaff],
    )
    @audited
    async def updateClient(
        self, info: Info[Context, None], input: UpdateClientInput | None = None
    ) -> UpdateClientPayload | None:
        ctx, actor = info.context, require_actor(info)
        fields = typed(ClientChanges, input)
        # A password hash inside the transaction: alone, no group waits for it.
        with writes_alone(fields.password is not None):
            outcome = await audited_write(
                info,
                lambda s: service.update_client(
                    s,
                    actor=actor,
                    passwords=ctx.passwords,
                    fields=fields,
                    invitations=Invitations.from_settings(ctx.settings),
                    locations=client_locations(
                        value_of(input, "locations"), value_of(input, "location")
                    ),
                ),
                action=status_action(fields.active),
                attempted=attempted_ids([fields.id]),
            )
        return UpdateClientPayload(
            value=user_or_none(outcome.value, info.context.viewer), messages=outcome.messages
        )

    @strawberry.mutation(
        description="Update the current user, or a patient that the current user has access to.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def updateUser(
        self, info: Info[Context, None], input: UpdateUserInput | None = None
    ) -> UpdateUserPayload | None:
        ctx, actor = info.context, require_actor(info)
        fields = typed(UserChanges, input)
        # A new password or sign-in address checks the current password (a hash): alone.
        with writes_alone(fields.password is not None or fields.email is not None):
            written = await audited_write(
                info,
                lambda s: service.update_user(
                    s,
                    actor=actor,
                    passwords=ctx.passwords,
                    fields=fields,
                    locations=client_locations(value_of(input, "locations")),
                ),
                action="update",
                # A blank id means the caller: a patient's own record, a provider's is none.
                attempted=attempted_ids(
                    [fields.id or (actor.user_id if actor.is_patient else None)]
                ),
            )
        # A patient's own address that another patient has: one message, owner told by email.
        outcome = answered(
            info, written, OWN_EMAIL_UNUSABLE, action="update", record_id=actor.user_id
        )
        return UpdateUserPayload(
            value=user_or_none(outcome.value, info.context.viewer), messages=outcome.messages
        )

    @strawberry.mutation(
        description="Update multiple clients at once: move them to a user group, archive or "
        "reactivate them, add providers to or remove them from their care teams. All or "
        "nothing; at most CAREBOOK_BULK_UPDATE_MAX_IDS ids (1,000).",
        permission_classes=[IsStaff],
    )
    @audited
    async def bulkUpdateClients(
        self, info: Info[Context, None], input: BulkUpdateClientsInput | None = None
    ) -> BulkUpdateClientsPayload | None:
        ctx, actor = info.context, require_actor(info)
        fields = typed(BulkClientChanges, input)
        ids = list(fields.ids or [])
        with writes_alone():  # up to 1,000 patients in one transaction: no group waits for it
            outcome = await audited_write(
                info,
                lambda s: service.bulk_update_clients(
                    s,
                    actor=actor,
                    fields=fields,
                    max_ids=ctx.settings.bulk_update_max_ids,
                    shown=selected_columns_under(info, "users"),
                ),
                action=_bulk_action(fields),
                attempted=attempted_ids(ids[: ctx.settings.bulk_update_max_ids]),
            )
        # Only on an update that was made: a refused one answers its messages alone.
        if fields.active_status_ignored and outcome.value is not None:
            warn(
                info,
                code=ACTIVE_STATUS_IGNORED,
                message="active_status was ignored: with user_group_id, bulkUpdateClients "
                "only moves the patients (one change at a time, as in Healthie)",
            )
        users: list[User | None] | None = None
        if outcome.value is not None:
            users = [User(row=row, viewer=info.context.viewer) for row in outcome.value]
        return BulkUpdateClientsPayload(value=users, messages=outcome.messages)
