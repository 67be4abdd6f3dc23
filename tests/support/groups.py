"""Helpers for the user group tests: groups, patients and counts, through the API or builders."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from carebook import builders
from carebook.audit.trail import load_without_trail
from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.user_groups.models import UserGroup
from carebook.users.models import User
from tests.support.api import Api
from tests.support.seed_group_documents import CREATE_GROUP
from tests.support.world import Org

GROUP = """query($id: ID) { userGroup(id: $id) {
  id name invite_code users_count user_ids onboarding_flow_id created_at cursor } }"""

USERS_COUNT = "query($id: ID) { userGroup(id: $id) { users_count } }"

UPDATE_CLIENT_GROUP = """mutation($id: ID, $user_group_id: String, $for_changing_groups: Boolean,
  $active: Boolean) {
  updateClient(input: {id: $id, user_group_id: $user_group_id,
                       for_changing_groups: $for_changing_groups, active: $active}) {
    user { id user_group_id active } messages { field message } } }"""

BULK_GROUP = """mutation($ids: [ID], $user_group_id: ID, $active_status: Boolean) {
  bulkUpdateClients(input: {ids: $ids, user_group_id: $user_group_id,
                            active_status: $active_status}) {
    users { id user_group_id } messages { field message } } }"""


async def create_group(api: Api, name: str) -> str:
    """A group made with the seed's createGroup document; its id."""
    payload = (await api.data(CREATE_GROUP, {"name": name}))["createGroup"]
    assert payload["messages"] is None, payload["messages"]
    group_id: str = payload["user_group"]["id"]
    return group_id


async def users_count(api: Api, group_id: str | int) -> int | None:
    """The group's users_count as the API answers it."""
    group = (await api.data(USERS_COUNT, {"id": str(group_id)}))["userGroup"]
    assert group is not None
    count: int | None = group["users_count"]
    return count


async def add_patients(
    database: Database,
    passwords: Passwords,
    org: Org,
    count: int,
    *,
    group_id: str | int | None = None,
    tag: str = "p",
    **fields: Any,
) -> list[int]:
    """``count`` further patients of the organization, optionally in a group."""
    actor = builders.actor_of(org.provider)
    if group_id is not None:
        fields["user_group_id"] = str(group_id)
    ids = []
    async with database.write_sessions() as session, session.begin():
        load_without_trail(session)  # fixture data: no one's activity
        for index in range(count):
            patient = await builders.patient(
                session,
                passwords,
                actor=actor,
                first_name=f"{tag.capitalize()}{index}",
                last_name=f"Member{index}",
                email=f"{tag}.{index}.{org.provider.organization_id}@example.com",
                **fields,
            )
            ids.append(patient.id)
    return ids


async def group_of(database: Database, user_id: int) -> int | None:
    """The user's user_group_id as committed."""
    async with database.read_sessions() as session:
        row = await session.get_one(User, user_id)
        return row.user_group_id


async def group_rows(database: Database) -> list[UserGroup]:
    """Every group row, by id."""
    async with database.read_sessions() as session:
        return list((await session.execute(select(UserGroup).order_by(UserGroup.id))).scalars())
