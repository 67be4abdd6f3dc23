"""Inputs of the patient mutations, with Healthie's names and types."""

import strawberry

from carebook.graphql.inputs import opt
from carebook.graphql.locations.inputs import ClientLocationInput

MAX_BULK_IDS_DOC = "At most 1,000 ids (configurable with CAREBOOK_BULK_UPDATE_MAX_IDS)."
# The code systems (docs/decisions.md, "The patient record"); "" clears a code.
LANGUAGE_DOC = "ISO 639 language code, e.g. en, spa or en-US."
RACE_DOC = "CDC Race & Ethnicity race code, e.g. 2106-3 (White); ASKU when declined."
ETHNICITY_DOC = "CDC Race & Ethnicity ethnicity code, e.g. 2186-5; ASKU when declined."
ORIENTATION_DOC = "SNOMED CT code (e.g. 20430005), or OTH, UNK, ASKU."
GENDER_IDENTITY_DOC = "SNOMED CT code (e.g. 446141000124107), or OTH, UNK, ASKU."
LOCATIONS_DOC = "The user's locations to add (no id), change (id) or delete (id and _destroy)."
LOCATION_DOC = "One more location, as an entry of locations."
ORIENTATION_OTHER_DOC = "The sexual orientation in the patient's words, with OTH."


@strawberry.input(name="createClientInput", description="Parameters for createClient.")
class CreateClientInput:
    """A new patient, added by a provider or staff member."""

    first_name: str | None = opt("Required. First name.")
    last_name: str | None = opt("Required. Last name.")
    email: str | None = opt("Required unless skipped_email is true; unique in the practice.")
    skipped_email: bool | None = opt("When true, the patient is created without an email.")
    phone_number: str | None = opt("Phone number; stored in E.164 form.")
    dietitian_id: str | None = opt("Also known as the provider ID. Defaults to the caller.")
    user_group_id: str | None = opt("ID of the user group to put the patient in.")
    dont_send_welcome: bool | None = opt("If true, the welcome email is not sent.")
    additional_record_identifier: str | None = opt("A second identifier of the patient.")
    dob: str | None = opt("Date of birth, format: YYYY-MM-DD.")
    gender: str | None = opt("Ex. Male.")
    gender_identity: str | None = opt("Gender identity (a Carebook addition on this input).")
    sex: str | None = opt("Sex (a Carebook addition on this input).")
    pronouns: str | None = opt("Pronouns (a Carebook addition on this input).")
    preferred_name: str | None = opt("Preferred name (a Carebook addition).")
    legal_name: str | None = opt("Legal first name.")
    metadata: str | None = opt("A serialized JSON object. Maximum 10,000 characters.")
    other_provider_ids: list[str | None] | None = opt("Further providers on the care team.")
    record_identifier: str | None = opt("The practice's identifier; unique in the practice.")
    skip_set_password_state: bool | None = opt(
        "Accepted for compatibility; Carebook never forces a set-password step.", False
    )
    timezone: str | None = opt("Timezone of the client, IANA name (e.g. America/New_York).")


@strawberry.input(name="updateClientInput", description="Parameters for updateClient.")
class UpdateClientInput:
    """Changes to a patient by a provider or staff member."""

    id: strawberry.ID | None = opt("Required. The patient to update.")
    active: bool | None = opt("false archives the patient, true reactivates them.")
    additional_record_identifier: str | None = opt("A second identifier of the patient.")
    dietitian_id: str | None = opt("The primary provider, a provider/staff member of the practice.")
    dob: str | None = opt("Date of birth, format: YYYY-MM-DD.")
    email: str | None = opt("Email; unique among the practice's patients.")
    first_name: str | None = opt("First name (cannot be blank).")
    last_name: str | None = opt("Last name (cannot be blank).")
    legal_name: str | None = opt("Legal first name.")
    preferred_name: str | None = opt("Preferred name (a Carebook addition).")
    pronouns: str | None = opt("Pronouns.")
    gender: str | None = opt("Gender.")
    gender_identity: str | None = opt("Gender identity.")
    sex: str | None = opt("Sex.")
    phone_number: str | None = opt("Phone number; stored in E.164 form.")
    timezone: str | None = opt("IANA time zone name.")
    metadata: str | None = opt("A serialized JSON object.")
    other_provider_ids: list[str | None] | None = opt("Replaces the further care-team providers.")
    record_identifier: str | None = opt("The practice's identifier; unique in the practice.")
    skipped_email: bool | None = opt("When true, the patient may have no email.")
    user_group_id: str | None = opt('The patient\'s group; "" removes them from their group.')
    for_changing_groups: bool | None = opt("When true, the patient is removed from their group.")
    password: str | None = opt("A new password (at least 8 characters, strong enough).")
    resend_welcome: bool | None = opt(
        "When true, the welcome email is sent again and no other change is applied."
    )
    send_form_request_reminder: bool | None = opt(
        "Needs is_intake_item or requested_form_completion_id; no other change is applied."
    )
    is_intake_item: bool | None = opt("With send_form_request_reminder: intake-forms reminder.")
    requested_form_completion_id: str | None = opt(
        "With send_form_request_reminder: reminder of this form request."
    )
    current_email: str | None = opt("Email of the patient to update, used when id is not given.")
    additional_phone_number: str | None = opt("A second phone number; stored in E.164 form.")
    height: str | None = opt("Height in inches, e.g. 68.5.")
    weight: str | None = opt("Weight in pounds, e.g. 150 (a Carebook addition on this input).")
    quick_notes: str | None = opt("Notes on the patient for the practice's staff only.")
    preferred_language_code: str | None = opt(LANGUAGE_DOC)
    primary_race_code: str | None = opt(RACE_DOC)
    secondary_race_code: str | None = opt(RACE_DOC)
    primary_ethnicity_code: str | None = opt(ETHNICITY_DOC)
    secondary_ethnicity_code: str | None = opt(ETHNICITY_DOC)
    sexual_orientation_code: str | None = opt(ORIENTATION_DOC)
    sexual_orientation_other: str | None = opt(ORIENTATION_OTHER_DOC)
    gender_identity_code: str | None = opt(GENDER_IDENTITY_DOC)
    location: ClientLocationInput | None = opt(LOCATION_DOC)
    locations: list[ClientLocationInput | None] | None = opt(LOCATIONS_DOC)


@strawberry.input(name="updateUserInput", description="Parameters for updateUser.")
class UpdateUserInput:
    """Changes a user makes to themselves (or staff to a patient)."""

    id: strawberry.ID | None = opt("The user to update; defaults to the caller.")
    current_email: str | None = opt("Email of the patient to update (staff only); prefer id.")
    current_password: str | None = opt("Required when changing your own password.")
    first_name: str | None = opt("First name (cannot be blank).")
    last_name: str | None = opt("Last name (cannot be blank).")
    legal_name: str | None = opt("Legal first name.")
    preferred_name: str | None = opt("Preferred name (a Carebook addition).")
    pronouns: str | None = opt("Pronouns.")
    email: str | None = opt("Email address.")
    phone_number: str | None = opt("Phone number; stored in E.164 form.")
    dob: str | None = opt("Date of birth, format: YYYY-MM-DD.")
    gender: str | None = opt("Gender.")
    gender_identity: str | None = opt("Gender identity.")
    sex: str | None = opt("Sex.")
    timezone: str | None = opt("IANA time zone name.")
    skipped_email: bool | None = opt("When true, the user may have no email.")
    password: str | None = opt("A new password (at least 8 characters, strong enough).")
    password_confirmation: str | None = opt("When given, must equal password.")
    human_id: strawberry.ID | None = opt("The person's id in another system (Healthie: Human API).")
    preferred_language_code: str | None = opt(LANGUAGE_DOC)
    primary_race_code: str | None = opt(RACE_DOC)
    secondary_race_code: str | None = opt(RACE_DOC)
    primary_ethnicity_code: str | None = opt(ETHNICITY_DOC)
    secondary_ethnicity_code: int | None = opt(
        "CDC ethnicity code without its hyphen (Healthie types it Int), e.g. 21865 for 2186-5."
    )
    sexual_orientation_code: str | None = opt(ORIENTATION_DOC)
    sexual_orientation_other: str | None = opt(ORIENTATION_OTHER_DOC)
    gender_identity_code: str | None = opt(GENDER_IDENTITY_DOC)
    locations: list[ClientLocationInput | None] | None = opt(LOCATIONS_DOC)


@strawberry.input(name="bulkUpdateClientsInput", description="Parameters for bulkUpdateClients.")
class BulkUpdateClientsInput:
    """One change applied to many patients at once, all or nothing."""

    ids: list[strawberry.ID | None] | None = opt(f"Required. The patients. {MAX_BULK_IDS_DOC}")
    user_group_id: strawberry.ID | None = opt(
        'Move every patient to this group ("" removes them from their group).'
    )
    active_status: bool | None = opt(
        "Required without user_group_id or a care-team change; ignored with user_group_id."
    )
    other_provider_ids: str | None = opt(
        "Comma-separated ids of providers/staff to add to every patient's care team."
    )
    provider_ids_to_remove: list[strawberry.ID | None] | None = opt(
        "List of provider IDs to remove from the patients' care team"
    )
