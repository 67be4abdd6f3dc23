"""How long stored text may be: the one number per kind of value that both the models' columns
(``String(n)``) and the validation of input use.

PostgreSQL refuses a value longer than its column with an error (an internal error to the
client) while SQLite stores it, so a limit checked in code and a column narrower than it made
valid input fail on one database only. Every limit lives here; tests/db/test_column_widths.py
walks every string input of the API and checks that its limit is its column's width, and
tests/db/test_migrations.py that the migrated columns are as wide as the models say (migrations
never import application code, so they repeat the numbers).
"""

from __future__ import annotations

# str.casefold() turns one character into at most three ('ΐ' -> 'ΐ', 'ﬃ' -> 'ffi'); a
# column holding a folded name is this many times as wide as the name (the test checks the
# factor against every code point).
FOLD_GROWTH = 3


def folded(length: int) -> int:
    """The width that holds the case-folded form of any text of ``length`` characters."""
    return length * FOLD_GROWTH


# Users
PERSON_NAME = 100  # first_name, last_name
USER_TEXT = 200  # legal_name, preferred_name, pronouns, gender, gender_identity, sex, ...
RECORD_IDENTIFIER = 100
METADATA = 10_000
QUICK_NOTES = 10_000  # the staff's notes on a patient (updateClient quick_notes)
EXTERNAL_ID = 100  # human_id: another system's id of the person
DEMOGRAPHIC_CODE = 20  # CDC race/ethnicity, SNOMED CT, HL7 null flavours, "en-US"
PHONE = 32  # phone_number, additional_phone_number (E.164: at most 16)

# Names of groups, onboarding flows, appointment types, offerings, conversations, organizations
LABEL = 200
LABEL_KEY = folded(LABEL)  # name_key of groups and flows
TAG_NAME = 100
TAG_NAME_KEY = 400  # wider than folded(TAG_NAME) already

# Scheduling
BILLING_FREQUENCY = 40
CONTACT_TYPE = 50
APPOINTMENT_REASON = 500  # createAppointment's notes, completeCheckout's reason
PM_STATUS = 40
VIDEOCHAT_URL = 2_000  # external_videochat_url
APPOINTMENT_LOCATION = 200  # an appointment's location, free text
OFFERING_DESCRIPTION = 5_000  # a TEXT column: bounded by validation only

# Forms
FORM_ID = 100  # custom_module_form_id

# Locations: the free-text fields (state and zip are free text outside the US)
LOCATION_TEXT = {
    "name": 200,
    "line1": 200,
    "line2": 200,
    "city": 100,
    "state": 100,
    "zip": 20,
    "other_id": 50,
    "other_id_qual": 50,
    "place_of_service_id": 20,
}
