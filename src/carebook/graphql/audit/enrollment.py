"""The answer and audit event of an enrollment (or a patient's own address change) whose email
already has an account."""

from typing import TypeVar

from strawberry.types import Info

from carebook.accounts.enrollment import AccountExists
from carebook.audit.service import Target
from carebook.graphql.audit.writes import record_refused
from carebook.graphql.common import FieldError, Outcome
from carebook.graphql.context import Context

T = TypeVar("T")


def answered(
    info: Info[Context, None],
    outcome: Outcome[T | AccountExists],
    message: str,
    *,
    action: str,
    record_id: int | None = None,
) -> Outcome[T]:
    """The outcome the caller sees: an existing account is one message on ``email``.

    Its transaction committed (the owner's email is in the outbox). The attempt is recorded for
    the practice it aimed at, allowed=false, for ``record_id`` (none for an enrollment): the same
    event as any other refused attempt there, so the trail does not single out the account.
    """
    value = outcome.value
    if isinstance(value, AccountExists):
        record_refused(info, [Target(record_id, value.organization_id)], action)
        return Outcome(value=None, messages=[FieldError(field="email", message=message)])
    return Outcome(value=value, messages=outcome.messages)
