"""Self sign-up (Healthie's ``signUp``): patients join a provider; providers start a practice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.accounts import enrollment
from carebook.accounts.changes import ChangeContext, DatabaseLookups
from carebook.accounts.enrollment import AccountExists, Attempt
from carebook.accounts.staff import create_staff_user
from carebook.auth.passwords import Passwords
from carebook.auth.roles import Role
from carebook.errors import Invalid
from carebook.organizations.models import Organization
from carebook.user_groups.models import UserGroup
from carebook.users import queries
from carebook.users import validation as v
from carebook.users.activity import record_sign_in, signed_in_on_creation
from carebook.users.credentials import IssuedToken, issue_session_token
from carebook.users.events import emit_patient_created
from carebook.users.inputs import Profile, SignUp
from carebook.users.models import User
from carebook.users.new_password import Prehashed
from carebook.users.trail import record_patients

PATIENT_ROLES = ("patient", "client")
PROVIDER_ROLES = ("provider", "dietitian")
# Checked even when not given (blank is a message).
REQUIRED = frozenset({"first_name", "last_name", "email", "password"})
# Unknown, inactive, non-staff and closed-practice providers get the same answer: an anonymous
# caller cannot tell which of a practice's sequential ids exist (issue 22).
PROVIDER_NOT_FOUND = "Provider not found"
PROVIDER_SIGN_UP_OFF = (
    "Providers cannot sign up on this server: ask its operator to create your practice"
)

# The hasher, and the given password's hash made ahead if it was.
Hashing = tuple[Passwords, Prehashed | None]


@dataclass(frozen=True)
class Placement:
    """Where a signing-up patient lands: organization, provider, and group if any."""

    organization_id: int
    dietitian_id: int
    user_group_id: int | None


async def sign_up(
    session: AsyncSession,
    *,
    passwords: Passwords,
    fields: SignUp,
    ttl: timedelta,
    attempt: Attempt | None = None,
    prehashed: Prehashed | None = None,
    providers_may_sign_up: bool = True,
) -> IssuedToken | AccountExists:
    """Create a patient (or a provider with a new organization) and sign them in.

    A patient sign-up with an email a patient of the practice already has creates nothing and
    tells that patient by email (carebook.accounts.enrollment); ``attempt`` learns the practice.
    ``prehashed``: the password's hash, made before the write transaction (users/new_password.py).
    ``providers_may_sign_up``: False refuses role 'provider' (CAREBOOK_PROVIDER_SIGN_UP).
    """
    role = (fields.role or "").strip().lower()
    if role in PATIENT_ROLES:
        created = await _patient(session, (passwords, prehashed), fields, attempt or Attempt())
        if isinstance(created, AccountExists):
            return created
        user = created
    elif role in PROVIDER_ROLES:
        if not providers_may_sign_up:
            raise Invalid.field("role", PROVIDER_SIGN_UP_OFF)
        user = await _provider(session, (passwords, prehashed), fields)
    else:
        raise Invalid.field("role", "Role must be 'patient' (or 'provider' to open a practice)")
    token = await issue_session_token(session, user=user, ttl=ttl)
    if user.last_sign_in_at is None:  # a patient's was stamped in its INSERT
        await record_sign_in(session, user)  # signing up signs the new user in
    await record_patients(session, [user], action="create")
    return IssuedToken(user=user, token=token)


def _profile(fields: SignUp, dietitian_id: int | None = None) -> Profile:
    return Profile(
        first_name=fields.first_name,
        last_name=fields.last_name,
        email=fields.email,
        password=fields.password,
        phone_number=fields.phone_number,
        timezone=fields.timezone,
        legal_name=fields.legal_name,
        dietitian_id=None if dietitian_id is None else str(dietitian_id),
    )


async def _patient(
    session: AsyncSession, hashing: Hashing, fields: SignUp, attempt: Attempt
) -> User | AccountExists:
    try:
        placement = await _placement(session, fields)
    except Invalid:
        await _check_profile_alone(session, hashing, fields)
        raise
    attempt.organization_id = placement.organization_id
    user = User(organization_id=placement.organization_id, role=Role.PATIENT.value, active=True)
    profile = _profile(fields, placement.dietitian_id)
    lookups = _Placed(session, placement.organization_id, placement.dietitian_id)
    ctx = ChangeContext(
        session, placement.organization_id, hashing[0], prehashed=hashing[1], lookups=lookups
    )
    email = await enrollment.validated_except_email_use(ctx, user, profile, REQUIRED)
    key = v.email_key(email)
    assert key is not None
    owner = await enrollment.patient_with_email(session, placement.organization_id, key)
    if owner is not None:
        return await enrollment.tell_owner(session, placement.organization_id, owner)
    user.email, user.email_key = email, key
    user.user_group_id = placement.user_group_id
    signed_in_on_creation(user)  # signing up signs the new patient in
    session.add(user)
    await session.flush()
    await emit_patient_created(session, user)
    return user


@dataclass
class _Placed(DatabaseLookups):
    """The database's look-ups, but the provider the placement found in this transaction (a
    staff member of the organization, active) is known to be one without asking again."""

    provider_id: int

    async def staff_member_id(self, provider_id: int) -> int | None:
        """The placement's provider at once; any other id as the database answers."""
        if provider_id == self.provider_id:
            return provider_id
        return await super().staff_member_id(provider_id)


async def _check_profile_alone(session: AsyncSession, hashing: Hashing, fields: SignUp) -> None:
    """Report the patient's own fields' problems, for a sign-up whose provider is not found.

    They come before "Provider not found": otherwise a weak password would answer "Provider
    not found" for a free id and a password message for a provider's, and anyone could sort a
    practice's sequential ids without signing up (issue 22, item 11). None of these fields'
    rules looks at an organization, so none is given.
    """
    ctx = ChangeContext(session, organization_id=0, passwords=hashing[0], prehashed=hashing[1])
    user = User(organization_id=0, role=Role.PATIENT.value, active=True)
    await enrollment.validated_except_email_use(ctx, user, _profile(fields), REQUIRED)


async def _placement(session: AsyncSession, fields: SignUp) -> Placement:
    """Resolve dietitian_id and/or invite_code to an organization, provider and group."""
    # Codes are generated lower-case; people retype them in any case.
    code = (fields.invite_code or "").strip().lower()
    dietitian_id = v.parse_id(fields.dietitian_id, "dietitian_id")
    if not code and dietitian_id is None:
        raise Invalid.field("dietitian_id", "Give dietitian_id or invite_code")
    group, inviter = await _by_invite_code(session, code) if code else (None, None)
    org_id = group.organization_id if group else inviter.organization_id if inviter else None
    named = await _provider_for(session, dietitian_id, org_id)
    if named is not None and not code and not named.open_sign_up:
        raise Invalid.field("dietitian_id", PROVIDER_NOT_FOUND)
    group_id = group.id if group else None
    if named is not None:
        return Placement(named.organization_id, named.id, group_id)
    provider = inviter
    if provider is None:  # a group code alone: the group's organization's first provider
        assert org_id is not None
        provider = await _first_provider(session, org_id)
    return Placement(provider.organization_id, provider.id, group_id)


async def _by_invite_code(session: AsyncSession, code: str) -> tuple[UserGroup | None, User | None]:
    group = (
        await session.execute(select(UserGroup).where(UserGroup.invite_code == code))
    ).scalar_one_or_none()
    if group is not None:
        return group, None
    inviter = (
        await session.execute(
            select(User).where(
                User.invite_code == code, User.role.in_(queries.STAFF_ROLES), User.active
            )
        )
    ).scalar_one_or_none()
    if inviter is None:
        raise Invalid.field("invite_code", "Invite code not found")
    return None, inviter


@dataclass(frozen=True)
class _Named:
    """The provider dietitian_id names (ids only), and whether their practice takes open
    sign-up."""

    id: int
    organization_id: int
    open_sign_up: bool


# Built once with a bound parameter: building it per sign-up cost about a tenth of the loop's
# CPU of one (py-spy, docs/performance.md).
_PROVIDER = (
    select(User.id, User.organization_id, Organization.open_sign_up)
    .join(Organization, Organization.id == User.organization_id)
    .where(User.id == bindparam("provider"), User.role.in_(queries.STAFF_ROLES), User.active)
)


async def _provider_for(
    session: AsyncSession, dietitian_id: int | None, org_id: int | None
) -> _Named | None:
    """The provider named by dietitian_id, which must belong to the invite code's organization.

    The practice's open_sign_up comes in the same statement: a closed practice's provider and
    an unused id then send the same SQL, and take as long (issue 22, item 11).
    """
    if dietitian_id is None:
        return None
    # The two ids the placement needs, not the provider's whole row: loading a User entity
    # (every column, an identity-map entry) cost a sign-up more than the rest of the look-up.
    row = (await session.execute(_PROVIDER, {"provider": dietitian_id})).one_or_none()
    if row is None or (org_id is not None and row.organization_id != org_id):
        raise Invalid.field("dietitian_id", PROVIDER_NOT_FOUND)
    return _Named(row.id, row.organization_id, open_sign_up=bool(row.open_sign_up))


async def _first_provider(session: AsyncSession, organization_id: int) -> User:
    query = (
        select(User)
        .where(User.organization_id == organization_id, User.role == Role.PROVIDER, User.active)
        .order_by(User.id)
        .limit(1)
    )
    provider = (await session.execute(query)).scalar_one_or_none()
    if provider is None:
        raise Invalid.field("invite_code", "This practice has no provider to sign up with")
    return provider


async def _provider(session: AsyncSession, hashing: Hashing, fields: SignUp) -> User:
    """A provider sign-up opens a new organization with them as its first provider."""
    passwords, prehashed = hashing
    return await create_staff_user(
        session,
        passwords=passwords,
        fields=_profile(fields),
        required=REQUIRED,
        prehashed=prehashed,
    )
