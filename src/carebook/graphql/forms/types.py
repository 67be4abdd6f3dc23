"""The RequestedFormCompletion and RecurringForm objects."""

from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from carebook.forms import queries, recurrence, service
from carebook.forms.models import RecurringForm as RecurringRow
from carebook.forms.models import RecurringFormRecipient
from carebook.forms.models import RequestedFormCompletion as RequestRow
from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.subjects import DisclosesUsers
from carebook.graphql.context import Context
from carebook.graphql.limits.rows import capped
from carebook.graphql.users.ref import LazyUser, user_object
from carebook.times import render


@strawberry.type(
    name="RequestedFormCompletion",
    description="A form a provider asked a patient to fill in (a form completion request).",
)
class RequestedFormCompletion(DisclosesUsers):
    """Healthie's RequestedFormCompletion, minimal: who, which form, and its status."""

    row: strawberry.Private[RequestRow]

    def disclosed_user_ids(self) -> list[int | None]:
        """A form request is data of the patient asked to fill it in."""
        return [self.row.recipient_id]

    @strawberry.field(description="The unique identifier of the request.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="Where the request stands: 'Not Started' or 'Completed'.")
    def status(self) -> str | None:
        return self.row.status

    @strawberry.field(description="ID of the requested form template.")
    def custom_module_form_id(self) -> str | None:  # Healthie types these ids String
        return self.row.custom_module_form_id

    @strawberry.field(description="What is requested: 'CustomModuleForm' or 'Questionnaire'.")
    def item_type(self) -> str:
        return self.row.item_type

    @strawberry.field(description="ID of the patient asked to fill in the form.")
    def recipient_id(self) -> str | None:
        return str(self.row.recipient_id)

    @strawberry.field(description="ID of the provider or staff member who asked.")
    def sender_id(self) -> str | None:
        return None if self.row.sender_id is None else str(self.row.sender_id)

    @strawberry.field(description="When the request was made (2023-06-05 14:10:00 +0200).")
    def created_at(self, info: Info[Context, None]) -> str | None:
        return render(self.row.created_at, info.context.zone)

    @strawberry.field(description="When the request was last changed (2023-06-05 14:10:00 +0200).")
    def updated_at(self, info: Info[Context, None]) -> str | None:
        return render(self.row.updated_at, info.context.zone)

    @strawberry.field(description="The patient asked to fill in the form.")
    @audited
    async def recipient(self, info: Info[Context, None]) -> LazyUser | None:
        row = await info.context.loaders.user.load(self.row.recipient_id)
        return user_object(row, info.context.viewer) if row else None

    @strawberry.field(
        description="A serialized JSON object of custom data (only staff and providers read it)."
    )
    def metadata(self, info: Info[Context, None]) -> str | None:
        viewer = info.context.viewer
        return self.row.request_metadata if viewer is not None and viewer.is_staff else None

    @strawberry.field(description="The recurring form this request is an occurrence of.")
    @audited
    async def recurring_form(self, info: Info[Context, None]) -> "RecurringForm | None":
        viewer = info.context.viewer
        if self.row.recurring_form_id is None or viewer is None:
            return None
        forms = await recurring_forms(info, [self.row.recurring_form_id])
        return forms[0] if forms else None


async def load_recurring(session: AsyncSession, rows: list[RecurringRow]) -> "list[RecurringForm]":
    """GraphQL objects of ``rows``, their recipients read in one query."""
    recipients = await queries.recipients_of(session, [row.id for row in rows])
    return [RecurringForm(row=row, recipients=recipients[row.id]) for row in rows]


async def recurring_forms(info: Info[Context, None], ids: list[int]) -> "list[RecurringForm]":
    """The recurring forms of ``ids`` the viewer sees (providers and staff)."""
    viewer = info.context.viewer
    if viewer is None:
        return []

    async def read(session: AsyncSession) -> list[RecurringForm]:
        rows = await queries.recurring_by_ids(session, viewer, ids)
        return await load_recurring(session, rows)

    return await info.context.read(read)


def _interval_type(frequency: str) -> str:
    """Healthie's interval_type: 'Daily'(1), 'Weekly'(2), 'Monthly'(3)."""
    return str(recurrence.FREQUENCIES.index(frequency) + 1)


@strawberry.type(name="RecurringForm", description="A form request repeated on a schedule.")
class RecurringForm(DisclosesUsers):
    """Healthie's RecurringForm: the form, the schedule, the patients and groups it goes to."""

    row: strawberry.Private[RecurringRow]
    recipients: strawberry.Private[list[RecurringFormRecipient]]

    def disclosed_user_ids(self) -> list[int | None]:
        """A recurring request is data of each patient it names."""
        return [r.user_id for r in self.recipients if r.user_id is not None]

    @strawberry.field(description="The unique identifier of the recurring form")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="The ID of the form itself")
    def form_id(self) -> str | None:
        return self.row.form_id

    @strawberry.field(description="The type of form: 'CustomModuleForm' or 'Questionnaire'.")
    def form_type(self) -> str:
        return self.row.item_type

    @strawberry.field(
        description="The interval of recurrence: '23:12' (daily) / 'Monday' (weekly) / "
        "'31st' (monthly)."
    )
    def interval(self) -> str | None:
        return recurrence.interval_text(service.stored_rule(self.row))

    @strawberry.field(
        description="The type of recurrence: 'Daily' (1), 'Weekly' (2) or 'Monthly' (3), as "
        "its number."
    )
    def interval_type(self) -> str | None:
        return _interval_type(self.row.frequency)

    @strawberry.field(description="Whether the recurrence is active or not")
    def is_active(self) -> bool:
        return self.row.is_active

    @strawberry.field(description="The day when recurrence ends (yyyy-mm-dd).")
    def recurrence_end_at(self) -> str | None:
        # A date (yyyy-mm-dd), not a date-time: str() of a date is its calendar day.
        return None if self.row.ends_on is None else str(self.row.ends_on)

    @strawberry.field(description="The ID of the provider who set up recurrence")
    def user_id(self) -> str | None:
        return str(self.row.user_id)

    @strawberry.field(
        description="The identifiers of associated users and groups: ['1', '2', 'group-5']"
    )
    @capped("RecurringForm.users_and_groups", "ask for fewer recurring forms at once")
    async def users_and_groups(self, info: Info[Context, None]) -> list[str | None]:
        return list(self._users_and_groups())

    def _users_and_groups(self) -> list[str]:
        return [
            str(r.user_id) if r.user_id is not None else f"group-{r.user_group_id}"
            for r in self.recipients
        ]

    @strawberry.field(description="Whether the user or group is connected to the recurring form")
    def has_connected_recipient(
        self,
        connectable_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The ID of the user or group")
        ] = None,
        connectable_type: Annotated[
            str | None,
            strawberry.argument(description="The type of the user or group ('User', 'UserGroup')"),
        ] = None,
    ) -> bool | None:
        wanted = f"group-{connectable_id}" if connectable_type != "User" else str(connectable_id)
        return wanted in self._users_and_groups()

    @strawberry.field(description="Get patients assigned to the recurring form")
    @audited
    @capped("RecurringForm.users", "list the recurring form's users_and_groups")
    async def users(self, info: Info[Context, None]) -> list[LazyUser] | None:
        ids = self.disclosed_user_ids()
        rows = await info.context.loaders.user.load_many([i for i in ids if i is not None])
        return [user_object(row, info.context.viewer) for row in rows if row is not None]
