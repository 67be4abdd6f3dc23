"""A merged patient (``merged_into_id`` set) is an archived alias of the client it was merged
into: its profile stays as the merge left it, so that unmergeClients can restore it and a
merge is never split by a later edit. The services that write a patient's own row
(updateClient, updateUser, updateUserEmail, bulkUpdateClients) ask here, in one place, before
changing it. The check reads the row unlocked: an update that read the patient just before a
merge committed may still land on it (PostgreSQL), as it would have landed just before."""

from __future__ import annotations

from collections.abc import Iterable

from carebook.errors import Invalid
from carebook.users.models import User

MERGED = "was merged into another client: change that one, or undo the merge first"


def refuse_merged(users: Iterable[User], *, field: str) -> None:
    """A message on ``field`` naming the merged patients among ``users``; nothing if none."""
    merged = [str(user.id) for user in users if user.merged_into_id is not None]
    if merged:
        raise Invalid.field(field, f"Client {', '.join(merged)} {MERGED}")
