"""``carebook demo``: a demo practice to try the API with."""

from __future__ import annotations

import unicodedata

import typer
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook import builders
from carebook.accounts.staff import NewProvider
from carebook.audit.trail import act_as
from carebook.auth.actor import Actor
from carebook.auth.passwords import Passwords
from carebook.auth.roles import Role
from carebook.cli.common import in_transaction, load_settings
from carebook.config import TEST_PAYMENT_PROVIDER
from carebook.db.migrate import upgrade
from carebook.errors import Invalid
from carebook.locations import service as location_service
from carebook.locations.inputs import NewLocation
from carebook.tags import service as tag_service
from carebook.users.credentials import create_api_key
from carebook.users.models import User
from carebook.users.queries import STAFF_ROLES
from carebook.users.validation import email_key

DEMO_PASSWORD = "demo clinic rocks 2026"  # noqa: S105 - printed on purpose
# The demo's own names: the README's example provider (Dana Reyes) must stay
# free for a reader who runs the demo first and the README's commands next.
DEMO_EMAIL = "demo.provider@example.com"
DEMO_PRACTICE = "Carebook Demo Clinic"


def demo(
    patients: int = typer.Option(40, help="How many patients to create."),
    database_url: str | None = typer.Option(None, help="Overrides CAREBOOK_DATABASE_URL."),
) -> None:
    """Fill the database with a demo practice and print an API key to try the API with."""
    settings = load_settings(database_url)
    upgrade(settings.database_url)
    passwords = Passwords(settings)

    async def work(session: AsyncSession) -> tuple[NewProvider, bool]:
        existing = await _existing_demo(session)
        if existing is not None:
            return existing, False
        return await _fill(session, passwords, patients), True

    try:
        created, new = in_transaction(settings, work, command="demo")
    except Invalid as error:  # e.g. a practice of the demo's name that is not the demo's
        for message in error.messages:
            typer.echo(f"error: {message.message}", err=True)
        raise typer.Exit(code=1) from None
    console = Console()
    if new:
        console.print(f"Demo practice ready (organization {created.organization_id}).")
    else:
        # A second run changes nothing but a fresh key: the first one was shown once.
        console.print(
            f"Demo practice already exists (organization {created.organization_id}); "
            "nothing was added. A new API key for its provider:"
        )
    console.print(f"Provider sign-in: {DEMO_EMAIL} / {DEMO_PASSWORD}")
    console.print(f"API key: [bold]{created.api_key}[/]")
    # The demo is one of the two places the card-accepting test provider belongs (tests are the
    # other); a real server names its processor, and without one refuses paid checkouts.
    console.print(
        f"Paid checkouts: serve with CAREBOOK_PAYMENT_PROVIDER={TEST_PAYMENT_PROVIDER} "
        "(accepts any card token but tok_decline...; never for real patients)."
    )


async def _existing_demo(session: AsyncSession) -> NewProvider | None:
    """The demo provider of an earlier run, with a new API key; None on a first run."""
    query = select(User).where(User.role.in_(STAFF_ROLES), User.email_key == email_key(DEMO_EMAIL))
    lead = (await session.execute(query)).scalar_one_or_none()
    if lead is None:
        return None
    api_key = await create_api_key(session, user=lead)
    return NewProvider(user_id=lead.id, organization_id=lead.organization_id, api_key=api_key)


def _ascii(text: str) -> str:
    """Drop accents (José -> Jose) so demo emails are plain ASCII."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


async def _fill(session: AsyncSession, passwords: Passwords, count: int) -> NewProvider:
    lead = await builders.provider(
        session,
        passwords,
        email=DEMO_EMAIL,
        organization=DEMO_PRACTICE,
        new_organization=True,
        first_name="Robin",
        last_name="Okafor",
        password=DEMO_PASSWORD,
    )
    await builders.provider(
        session,
        passwords,
        email=f"demo.staff.{lead.organization_id}@example.com",
        organization_id=lead.organization_id,
        role=Role.STAFF,
        first_name="Theo",
        last_name="Lindqvist",
    )
    actor = builders.actor_of(lead)
    # The demo's patients are written by its provider: the trail names them as the actor.
    act_as(session, actor)
    groups = [
        await builders.group(session, organization_id=lead.organization_id, name=name)
        for name in ("Discovery Patients", "Weight Management", "Diabetes Program")
    ]
    tags = [
        await tag_service.create_tag(session, actor=actor, name=name)
        for name in ("VIP", "New client", "Needs follow-up")
    ]
    for index in range(count):
        first = builders.FIRST_NAMES[index % len(builders.FIRST_NAMES)]
        last = builders.LAST_NAMES[(index * 7) % len(builders.LAST_NAMES)]
        email = _ascii(f"{first}.{last}.{index}@example.com").lower().replace("'", "")
        patient = await builders.patient(
            session,
            passwords,
            actor=actor,
            first_name=first,
            last_name=last,
            email=email,
            dob=f"{1950 + index % 60}-{1 + index % 12:02d}-{1 + index % 28:02d}",
            phone_number=f"555-444-{2000 + index:04d}",
            user_group_id=str(groups[index % 3].id),
        )
        await _decorate(session, actor, patient.id, tags[index % 3].id, index)
    return lead


async def _decorate(
    session: AsyncSession, actor: Actor, patient_id: int, tag_id: int, index: int
) -> None:
    """A tag on every patient and an address on every other one."""
    await tag_service.bulk_apply(
        session, actor=actor, ids=[tag_id], taggable_user_id=patient_id, max_ids=1
    )
    if index % 2 == 0:
        await location_service.create_location(
            session,
            actor=actor,
            fields=NewLocation(
                user_id=patient_id,
                name="Home",
                line1=f"{100 + index} Main St",
                city="Springfield",
                state="IL",
                zip="62701",
            ),
        )
