"""Loading generated people (bench/duplicates.py) into an organization."""

from __future__ import annotations

from typing import Any

from bench.duplicates import Generated
from sqlalchemy import insert

from carebook.auth.roles import Role
from carebook.db.engine import Database
from carebook.duplicates import service
from carebook.locations.models import Location
from carebook.users.models import User


def _user_row(person: Any, organization_id: int, provider_id: int) -> dict[str, Any]:
    email = person.email
    return {
        "organization_id": organization_id,
        "role": Role.PATIENT,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "dob": person.dob,
        "email": email,
        "email_key": email.lower() if email else None,
        "phone_number": person.phone,
        "dietitian_id": provider_id,
    }


async def load(
    database: Database, generated: Generated, organization_id: int, provider_id: int
) -> dict[int, int]:
    """Insert the people (and their addresses) in bulk, key them; generated id -> user id."""
    rows = [_user_row(p, organization_id, provider_id) for p in generated.people]
    async with database.write_sessions() as session, session.begin():
        statement = insert(User).returning(User.id, sort_by_parameter_order=True)
        ids = list((await session.scalars(statement, rows)).all())
        mapping = {p.id: user_id for p, user_id in zip(generated.people, ids, strict=True)}
        locations = [
            {
                "organization_id": organization_id,
                "user_id": mapping[p.id],
                "line1": p.address.split("|")[0],
                "zip": p.address.split("|")[1],
            }
            for p in generated.people
            if p.address
        ]
        if locations:
            await session.execute(insert(Location), locations)
        # A bulk load bypasses the ORM's flush hook: its keys are built as after an import.
        await service.reindex_organization(session, organization_id)
    return mapping
