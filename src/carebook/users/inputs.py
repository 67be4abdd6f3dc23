"""Typed inputs of the user services (scheme: carebook.graphql.inputs).

``None`` is a field the caller did not give. :class:`Profile` holds the fields that
:func:`carebook.accounts.changes.apply_changes` checks and sets, one rule per field for every write
path (createClient, updateClient, updateUser, signUp, checkout, the command line); each
operation's input adds its own fields to it. Values are raw (ids as ``str`` from GraphQL or
``int`` from code, dates and JSON as text) and checked by the rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# other_provider_ids: a list of ids (GraphQL), or a comma-separated string of them.
ProviderIds = str | Sequence[str | int | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """A user's own fields, as given; ``None`` leaves a field as it is (unless the operation
    requires it, see apply_changes)."""

    first_name: str | None = None
    last_name: str | None = None
    legal_name: str | None = None
    preferred_name: str | None = None
    pronouns: str | None = None
    gender: str | None = None
    gender_identity: str | None = None
    sex: str | None = None
    additional_record_identifier: str | None = None
    skipped_email: bool | None = None
    email: str | None = None
    phone_number: str | None = None
    dob: str | None = None
    timezone: str | None = None
    metadata: str | None = None
    record_identifier: str | None = None
    dietitian_id: str | int | None = None
    user_group_id: str | int | None = None
    active: bool | None = None
    password: str | None = None
    # The rest of the record (migration 0021); the codes are checked against their code
    # systems (users/demographics). secondary_ethnicity_code is an Int in updateUserInput.
    quick_notes: str | None = None
    additional_phone_number: str | None = None
    height: str | None = None
    weight: str | None = None
    human_id: str | None = None
    preferred_language_code: str | None = None
    primary_race_code: str | None = None
    secondary_race_code: str | None = None
    primary_ethnicity_code: str | None = None
    secondary_ethnicity_code: str | int | None = None
    sexual_orientation_code: str | None = None
    sexual_orientation_other: str | None = None
    gender_identity_code: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewClient(Profile):
    """``createClient``: a patient, their further providers, and whether to skip the welcome."""

    other_provider_ids: ProviderIds | None = None
    dont_send_welcome: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientChanges(Profile):
    """``updateClient``: changes to the patient ``id`` (or ``current_email``), or one of its
    email triggers."""

    id: str | int | None = None
    current_email: str | None = None
    other_provider_ids: ProviderIds | None = None
    for_changing_groups: bool | None = None
    resend_welcome: bool | None = None
    send_form_request_reminder: bool | None = None
    is_intake_item: bool | None = None
    requested_form_completion_id: str | int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UserChanges(Profile):
    """``updateUser``: changes to ``id`` or ``current_email`` (default: the caller)."""

    id: str | int | None = None
    current_email: str | None = None
    current_password: str | None = None
    password_confirmation: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BulkClientChanges:
    """``bulkUpdateClients``: one change to every patient of ``ids``, all or nothing.

    ``user_group_id`` wins over ``active_status``; the care-team changes
    (``other_provider_ids`` added, ``provider_ids_to_remove`` removed) go with either or alone.
    """

    ids: Sequence[str | int | None] | None = None
    user_group_id: str | int | None = None
    active_status: bool | None = None
    other_provider_ids: ProviderIds | None = None
    provider_ids_to_remove: Sequence[str | int | None] | None = None

    @property
    def active_status_ignored(self) -> bool:
        """Both were given: Healthie then ignores active_status, and so do we."""
        return self.user_group_id is not None and self.active_status is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignUp:
    """``signUp``: a patient joining a practice, or a provider opening one."""

    role: str | None = None
    dietitian_id: str | int | None = None
    invite_code: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    password: str | None = None
    phone_number: str | None = None
    timezone: str | None = None
    legal_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignIn:
    """``signIn``: email + password, or an invited user's signup token + their new password."""

    email: str | None = None
    password: str | None = None
    reset_token: str | None = None
    generate_api_token: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailChange:
    """``updateUserEmail``: whose email, the address it has now (a check), and the new one."""

    user_id: str | None = None
    current_email: str | None = None
    new_email: str | None = None
