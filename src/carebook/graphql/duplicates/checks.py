"""Creation-time duplicate checks of createClient, signUp and completeCheckout.

A staff member creating a patient (createClient) is told of likely duplicates in the response's
``extensions.warnings`` (code POSSIBLE_DUPLICATE, graphql/warnings.py), without changing
Healthie's payload; with CAREBOOK_DUPLICATES_BLOCK_STRONG a strong match refuses the creation
in ``messages`` instead (the refusal names the other patient: a read, recorded although the
creation is rolled back). An anonymous signUp or completeCheckout is never told (it would let
anyone probe who is a patient): their pairs are recorded for staff, in the same transaction.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from carebook.duplicates import service
from carebook.duplicates.scan import Found, person_of
from carebook.errors import Invalid
from carebook.graphql.audit.recording import record_reads
from carebook.graphql.context import Context
from carebook.graphql.warnings import warn
from carebook.users.models import User

T = TypeVar("T")
POSSIBLE_DUPLICATE = "POSSIBLE_DUPLICATE"


def _describe(found: Found, user_id: int) -> str:
    return f"Likely the same person as patient {person_of(found, user_id)}: {found.match.summary}"


@dataclass
class CreationCheck:
    """What a creation's check found, kept outside its transaction (a refusal rolls it back)."""

    found: list[Found] = field(default_factory=list)
    user_id: int = 0
    organization_id: int = 0
    refused: Found | None = None


async def checked_creation(
    session: AsyncSession, created: Awaitable[User], *, block_strong: bool, check: CreationCheck
) -> User:
    """The patient ``created``, checked for duplicates (what was found goes in ``check``).

    With ``block_strong`` a strong match raises :class:`Invalid`, which rolls the creation back.
    """
    user = await created
    check.user_id, check.organization_id = user.id, user.organization_id
    check.found[:] = await service.check_patients(session, user.organization_id, [user.id])
    strong = [f for f in check.found if f.match.strong]
    if block_strong and strong:
        check.refused = strong[0]
        raise Invalid.field(None, _describe(strong[0], user.id))
    return user


def warn_duplicates(info: Info[Context, Any], user: User | None, check: CreationCheck) -> None:
    """One POSSIBLE_DUPLICATE warning per likely duplicate of the created patient.

    A warning or a refusal says what the other patient's record holds (their birthday,
    phone...): each is an audited read of the patient it names.
    """
    if check.refused is not None:
        other = person_of(check.refused, check.user_id)
        record_reads(info, [(other, check.organization_id)])
        return
    if user is None:
        return
    for pair in sorted(check.found, key=lambda f: -f.match.score):
        warn(info, code=POSSIBLE_DUPLICATE, message=_describe(pair, user.id))
    record_reads(info, [(person_of(f, user.id), user.organization_id) for f in check.found])


async def recorded(
    session: AsyncSession, work: Awaitable[T], patient_of: Callable[[T], User | None]
) -> T:
    """``work``'s value, after recording the likely duplicates of the patient it wrote."""
    value = await work
    user = patient_of(value)
    if user is not None and user.is_patient:
        await service.check_patients(session, user.organization_id, [user.id])
    return value
