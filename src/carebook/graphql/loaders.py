"""DataLoaders, one per relationship, created per request and sharing its read session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from carebook.auth.actor import Actor
from carebook.auth.models import SignupToken
from carebook.conversations import note_queries
from carebook.conversations import queries as conversation_queries
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.conversations.note_models import Note
from carebook.forms import queries as form_queries
from carebook.forms.queries import FormCounts
from carebook.locations import queries as location_queries
from carebook.locations.models import Location
from carebook.notifications import settings as notification_settings
from carebook.notifications.models import NotificationSetting
from carebook.organizations import queries as organization_queries
from carebook.organizations.models import Organization
from carebook.scheduling import queries as scheduling_queries
from carebook.scheduling.models import Appointment, AppointmentType, Offering
from carebook.tags import queries as tag_queries
from carebook.tags.models import Tag
from carebook.user_groups import queries as group_queries
from carebook.user_groups.models import OnboardingFlow, UserGroup
from carebook.users import activation, queries
from carebook.users.models import User

if TYPE_CHECKING:
    from carebook.graphql.context import Context


class Loaders:
    """The request's loaders. Keys are only ever ids reached through visible records."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self.user = DataLoader[int, User | None](load_fn=self._users)
        self.group = DataLoader[int, UserGroup | None](load_fn=self._groups)
        self.care_team_ids = DataLoader[int, list[int]](load_fn=self._care_team_ids)
        # The deferred patient-record columns (users/models.py), by user id.
        self.profile = DataLoader[int, dict[str, Any]](load_fn=self._profiles)
        self.organization = DataLoader[int, Organization | None](load_fn=self._organizations)
        self.user_tags = DataLoader[int, list[Tag]](load_fn=self._user_tags)
        # A tag's users' ids in order: each page of tagged_users is sliced from it.
        # Keyed by (tag id, rows wanted): see tag_queries.load_tagged_user_ids.
        self.tagged_user_ids = DataLoader[tag_queries.TagRows, list[int]](
            load_fn=self._tagged_user_ids
        )
        self.tag_counts = DataLoader[int, tag_queries.TagCounts](load_fn=self._tag_counts)
        self.user_locations = DataLoader[int, list[Location]](load_fn=self._user_locations)
        self.group_users_count = DataLoader[int, int](load_fn=self._group_users_counts)
        # Keyed by (group id, conversation id or None).
        self.group_patients = DataLoader[tuple[int, int | None], list[User]](
            load_fn=self._group_patients
        )
        self.onboarding_flow = DataLoader[int, OnboardingFlow | None](load_fn=self._flows)
        self.flow_groups = DataLoader[int, list[UserGroup]](load_fn=self._flow_groups)
        self.provider_count = DataLoader[int, int](load_fn=self._provider_counts)
        self.signup_token = DataLoader[int, SignupToken | None](load_fn=self._signup_tokens)
        self.next_appt_date = DataLoader[int, datetime | None](load_fn=self._next_appt_dates)
        self.appointment_type = DataLoader[int, AppointmentType | None](load_fn=self._appt_types)
        self.offering = DataLoader[int, Offering | None](load_fn=self._offerings)
        self.appointment = DataLoader[int, Appointment | None](load_fn=self._appointments)
        self.conversation_members = DataLoader[int, list[User]](load_fn=self._convo_members)
        self.conversation_memberships = DataLoader[int, list[ConversationMembership]](
            load_fn=self._convo_memberships
        )
        self.conversation = DataLoader[int, Conversation | None](load_fn=self._conversations)
        # The patient record's derived fields (User.has_forms_to_complete, ...): keys are users
        # whose whole record the reader may see.
        self.form_counts = DataLoader[int, FormCounts](load_fn=self._form_counts)
        self.last_conversation_id = DataLoader[int, int | None](load_fn=self._last_convos)
        self.unseen_convo_count = DataLoader[int, int](load_fn=self._unseen_convos)
        # Messages, by conversation id (keys are conversations the reader may see).
        self.conversation_notes = DataLoader[int, list[Note]](load_fn=self._convo_notes)
        self.last_note = DataLoader[int, Note | None](load_fn=self._last_notes)
        self.note_receipts = DataLoader[int, note_queries.Receipts](load_fn=self._receipts)
        self.upcoming_appointments = DataLoader[int, list[Appointment]](load_fn=self._upcoming)
        self.upcoming_appointments_with = DataLoader[int, list[Appointment]](
            load_fn=self._upcoming_with
        )
        # A staff member's User.user_groups: their organization's groups, as the reader sees
        # them; keyed by the field's arguments (the same for every user of a page).
        self.organization_groups = DataLoader[group_queries.ListArgs, list[UserGroup]](
            load_fn=self._organization_groups
        )
        self.notification_setting = DataLoader[int, NotificationSetting | None](
            load_fn=self._notification_settings
        )

    async def _notification_settings(
        self, user_ids: Sequence[int]
    ) -> list[NotificationSetting | None]:
        return await self._context.read(lambda s: notification_settings.load_settings(s, user_ids))

    async def _users(self, ids: Sequence[int]) -> list[User | None]:
        return await self._context.read(lambda s: queries.load_users(s, ids))

    async def _profiles(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        return await self._context.read(lambda s: queries.load_profiles(s, ids))

    async def _groups(self, ids: Sequence[int]) -> list[UserGroup | None]:
        return await self._context.read(lambda s: group_queries.load_groups(s, ids))

    async def _organizations(self, ids: Sequence[int]) -> list[Organization | None]:
        return await self._context.read(lambda s: organization_queries.load_organizations(s, ids))

    def release(self) -> None:
        """Forget every loader and the context (Context.release: the request is over).

        Each loader's load function is a bound method of this object: a cycle through every
        loader, its cache and the records in it, which reference counting can free only once
        this object no longer holds them."""
        vars(self).clear()

    def _nested_fetch_limit(self) -> int:
        """One row past the nested-list cap: enough for @capped to refuse a longer list."""
        return self._context.settings.nested_list_max_rows + 1

    async def _care_team_ids(self, ids: Sequence[int]) -> list[list[int]]:
        per_key = self._nested_fetch_limit()
        return await self._context.read(
            lambda s: queries.load_care_team_ids(s, ids, per_key=per_key)
        )

    async def _user_tags(self, ids: Sequence[int]) -> list[list[Tag]]:
        per_key = self._nested_fetch_limit()
        return await self._context.read(
            lambda s: tag_queries.load_user_tags(s, ids, per_key=per_key)
        )

    async def _tagged_user_ids(self, ids: Sequence[tag_queries.TagRows]) -> list[list[int]]:
        actor = self._context.actor
        if actor is None:
            return [[] for _ in ids]
        only = actor.user_id if actor.is_patient else None  # a patient sees only themselves
        return await self._context.read(
            lambda s: tag_queries.load_tagged_user_ids(s, ids, only_user_id=only)
        )

    async def _tag_counts(self, ids: Sequence[int]) -> list[tag_queries.TagCounts]:
        return await self._context.read(lambda s: tag_queries.load_tag_counts(s, ids))

    async def _user_locations(self, ids: Sequence[int]) -> list[list[Location]]:
        per_key = self._nested_fetch_limit()
        return await self._context.read(
            lambda s: location_queries.load_user_locations(s, ids, per_key=per_key)
        )

    # Group members and a flow's groups are read through the caller's visibility scope: a
    # patient who reaches their own group sees only themselves in it and no other group, an
    # anonymous caller (signUp's payload) nothing.

    async def _group_users_counts(self, ids: Sequence[int]) -> list[int]:
        actor = self._context.actor
        if actor is None:
            return [0 for _ in ids]
        return await self._context.read(lambda s: group_queries.load_users_counts(s, actor, ids))

    async def _group_patients(self, keys: Sequence[tuple[int, int | None]]) -> list[list[User]]:
        actor = self._context.actor
        if actor is None:
            return [[] for _ in keys]
        # One row over the cap: UserGroup.users refuses a group past it, reading no more.
        per_key = self._context.settings.nested_list_max_rows + 1
        return await self._context.read(
            lambda s: group_queries.load_group_patients(s, actor, keys, per_key=per_key)
        )

    async def _flows(self, ids: Sequence[int]) -> list[OnboardingFlow | None]:
        return await self._context.read(lambda s: group_queries.load_flows(s, ids))

    async def _flow_groups(self, ids: Sequence[int]) -> list[list[UserGroup]]:
        actor = self._context.actor
        if actor is None:
            return [[] for _ in ids]
        return await self._context.read(lambda s: group_queries.load_flow_groups(s, actor, ids))

    async def _provider_counts(self, organization_ids: Sequence[int]) -> list[int]:
        return await self._context.read(
            lambda s: group_queries.load_provider_counts(s, organization_ids)
        )

    # Scheduling and conversations. Keys come from visible rows (a visible user, appointment,
    # billing item or conversation).

    async def _next_appt_dates(self, ids: Sequence[int]) -> list[datetime | None]:
        return await self._context.read(lambda s: scheduling_queries.load_next_appt_dates(s, ids))

    async def _appt_types(self, ids: Sequence[int]) -> list[AppointmentType | None]:
        return await self._context.read(lambda s: scheduling_queries.load_types(s, ids))

    async def _offerings(self, ids: Sequence[int]) -> list[Offering | None]:
        return await self._context.read(lambda s: scheduling_queries.load_offerings(s, ids))

    async def _appointments(self, ids: Sequence[int]) -> list[Appointment | None]:
        return await self._context.read(lambda s: scheduling_queries.load_appointments(s, ids))

    async def _convo_members(self, ids: Sequence[int]) -> list[list[User]]:
        return await self._context.read(lambda s: conversation_queries.load_members(s, ids))

    async def _convo_memberships(self, ids: Sequence[int]) -> list[list[ConversationMembership]]:
        return await self._context.read(lambda s: conversation_queries.load_memberships(s, ids))

    async def _conversations(self, ids: Sequence[int]) -> list[Conversation | None]:
        return await self._context.read(lambda s: conversation_queries.load_conversations(s, ids))

    async def _form_counts(self, ids: Sequence[int]) -> list[FormCounts]:
        return await self._context.read(lambda s: form_queries.load_form_counts(s, ids))

    async def _last_convos(self, ids: Sequence[int]) -> list[int | None]:
        return await self._context.read(
            lambda s: conversation_queries.load_last_conversation_ids(s, ids)
        )

    async def _unseen_convos(self, ids: Sequence[int]) -> list[int]:
        return await self._context.read(lambda s: note_queries.load_unread_counts(s, ids))

    async def _convo_notes(self, ids: Sequence[int]) -> list[list[Note]]:
        per_key = self._nested_fetch_limit()
        return await self._context.read(
            lambda s: note_queries.load_conversation_notes(s, ids, per_key=per_key)
        )

    async def _last_notes(self, ids: Sequence[int]) -> list[Note | None]:
        return await self._context.read(lambda s: note_queries.load_last_notes(s, ids))

    async def _receipts(self, ids: Sequence[int]) -> list[note_queries.Receipts]:
        return await self._context.read(lambda s: note_queries.load_receipts(s, ids))

    async def _upcoming(self, ids: Sequence[int]) -> list[list[Appointment]]:
        per_key = self._nested_fetch_limit()
        return await self._context.read(
            lambda s: scheduling_queries.load_upcoming_appointments(s, ids, per_key=per_key)
        )

    async def _upcoming_with(self, ids: Sequence[int]) -> list[list[Appointment]]:
        """A provider's or staff member's upcoming appointments (they are the provider)."""
        per_key = self._nested_fetch_limit()
        return await self._context.read(
            lambda s: scheduling_queries.load_upcoming_appointments(
                s, ids, per_key=per_key, as_provider=True
            )
        )

    async def _organization_groups(
        self, keys: Sequence[group_queries.ListArgs]
    ) -> list[list[UserGroup]]:
        viewer = self._context.viewer
        if viewer is None or not viewer.is_staff:
            return [[] for _ in keys]
        answers = []
        for args in keys:  # one key per request in practice: the field's arguments
            answers.append(await self._context.read(self._groups_reader(viewer, args)))
        return answers

    @staticmethod
    def _groups_reader(
        viewer: Actor, args: group_queries.ListArgs
    ) -> Callable[[AsyncSession], Awaitable[list[UserGroup]]]:
        return lambda s: group_queries.list_groups(s, viewer, args)

    async def _signup_tokens(self, user_ids: Sequence[int]) -> list[SignupToken | None]:
        return await self._context.read(lambda s: activation.load_usable_tokens(s, list(user_ids)))
