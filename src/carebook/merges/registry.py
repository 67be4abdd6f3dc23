"""Which rows belong to a patient: the one list a merge moves, and the references it leaves.

Every column that refers to ``users.id`` is in exactly one of :data:`MOVED` and :data:`LEFT`
(tests/merges/test_registry.py walks the schema's foreign keys), so a table another issue adds
with a patient column fails that test until it gets its line here. A moved row keeps its
primary key; unmergeClients finds it again by it (carebook/users/merge_log.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Moved:
    """A (table, column) whose rows a merge moves from the merged patients to the target.

    ``unique``: the other columns that, with ``column``, may appear only once (a primary key or
    a unique index); a row the target already has in that sense stays on the merged patient
    (``KEPT`` in the log), so nothing is lost and unmerge has nothing to split.
    ``unique_while_null``: columns that must be null for ``unique`` to bind (a removed tag
    application may repeat, a live one may not).
    ``held_by_user``: a column of the target's own ``users`` row whose value counts as a
    unique value it holds (the primary provider is on the care team already).
    ``event``: the webhook event of each moved row (its ``id``), with ``changed_fields``.
    """

    table: str
    column: str
    unique: tuple[str, ...] = ()
    unique_while_null: tuple[str, ...] = ()
    held_by_user: str | None = None
    event: str | None = None
    changed_fields: tuple[str, ...] = ()


MOVED: tuple[Moved, ...] = (
    Moved("taggings", "user_id", unique=("tag_id",)),
    Moved("applied_tags", "user_id", unique=("tag_id",), unique_while_null=("deleted_at",)),
    Moved("care_team_members", "patient_id", unique=("provider_id",), held_by_user="dietitian_id"),
    Moved("locations", "user_id", event="location.updated", changed_fields=("user_id",)),
    Moved("appointments", "patient_id", event="appointment.updated", changed_fields=("user_id",)),
    Moved("conversations", "owner_id"),
    Moved("conversations", "patient_id"),
    Moved("conversation_memberships", "user_id", unique=("conversation_id",)),
    Moved("notes", "user_id"),  # the messages the patient wrote, with their conversations
    Moved("notes", "sent_by_id"),
    Moved("requested_form_completions", "recipient_id"),
    Moved("requested_form_completions", "sender_id"),
    # The target is asked at the next occurrences of the duplicates' recurring requests.
    Moved("recurring_form_recipients", "user_id"),
    Moved("billing_items", "recipient_id"),
    Moved("billing_items", "sender_id"),
    Moved("user_notifications", "recipient_id"),
    Moved("user_notifications", "patient_id"),
)

# The references to a patient a merge leaves where they are, and why.
LEFT: dict[tuple[str, str], str] = {
    ("users", "dietitian_id"): "a provider's patients; a patient is nobody's primary provider",
    ("users", "merged_into_id"): "the merge's own pointer",
    ("client_merges", "target_id"): "the merge log",
    ("client_merges", "merged_by_id"): "the merge log (staff)",
    ("client_merges", "unmerged_by_id"): "the merge log (staff)",
    ("api_keys", "user_id"): "credentials stay with their account (staff only)",
    ("session_tokens", "user_id"): "the merged patient's sessions end with the archive",
    ("signup_tokens", "user_id"): "an invitation is to one account",
    ("password_reset_tokens", "user_id"): "a reset link is to one account",
    ("notification_settings", "user_id"): "the target's own settings stay (Healthie keeps the "
    "remaining profile unchanged)",
    ("search_tokens", "user_id"): "derived from each patient's own fields; kept by the index",
    ("outbox_messages", "recipient_user_id"): "mail already addressed: a delivery log",
    ("tags", "user_id"): "who created the tag (staff)",
    ("applied_tags", "applied_by_id"): "who applied the tag (staff)",
    ("appointments", "provider_id"): "the provider of an appointment",
    ("appointment_types", "user_id"): "the practice's own (staff)",
    ("offerings", "user_id"): "the practice's own (staff)",
    ("webhooks", "created_by_id"): "the practice's own (staff)",
    ("care_team_members", "provider_id"): "the provider on a care team",
    ("conversations", "closed_by_id"): "who closed the conversation: a record of the act",
    ("conversation_memberships", "creator_id"): "who added the member: a record of the act",
    ("duplicate_match_keys", "user_id"): "derived from each patient's own fields; kept by the "
    "duplicates' flush hook (an archived patient leaves the matching)",
    ("duplicate_name_keys", "user_id"): "as duplicate_match_keys: the name tally of each active "
    "patient, dropped when the merge archives them, written again by an undo",
    ("duplicate_pairs", "user_id"): "a pair names two records: the merge resolves it, the pair "
    "leaves the list with the archived record",
    ("duplicate_pairs", "other_user_id"): "as user_id",
    ("duplicate_pairs", "dismissed_by_id"): "who dismissed the pair (staff)",
    ("recurring_forms", "user_id"): "who set up the recurring request (staff)",
}
