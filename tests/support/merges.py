"""mergeClients / unmergeClients documents, and the full record of patients as rows."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Column, or_, select

from carebook.db.engine import Database
from carebook.tables import Base
from tests.support.api import Api
from tests.support.scheduling import CHECKOUT, future

MERGE = """mutation($input: mergeClientsInput) { mergeClients(input: $input) {
  user { id email active } messages { field message } } }"""
UNMERGE = """mutation($input: unmergeClientsInput) { unmergeClients(input: $input) {
  users { id email active } messages { field message } } }"""
# The merge's own log points at the patients too; it is not their record.
LOG_TABLES = {"client_merges", "client_merge_rows"}
# When a row last changed is no part of what it holds (a merge and its undo are changes), nor
# when its user last used the API (users/activity.py notes each caller after the answer).
VOLATILE = {"updated_at", "last_active_at", "last_activity_at"}
# A merge ends the merged patient's sessions and its undo does not bring them back (documented;
# tests/merges/test_merged_alias.py shows it): a round trip compares the rest of the record.
NOT_RESTORED = {("session_tokens", "revoked_at")}


async def merge(api: Api, **fields: Any) -> dict[str, Any]:
    """The mergeClients payload."""
    payload: dict[str, Any] = (await api.data(MERGE, {"input": fields}))["mergeClients"]
    return payload


async def unmerge(api: Api, user_id: int | str) -> dict[str, Any]:
    """The unmergeClients payload."""
    data = await api.data(UNMERGE, {"input": {"id": str(user_id)}})
    payload: dict[str, Any] = data["unmergeClients"]
    return payload


async def book(patient: Api, type_id: str, provider_id: int, days: int) -> None:
    """A checkout by the patient themselves: a billing item and notifications of theirs."""
    fields = {
        "appointment_type_id": type_id,
        "provider_id": str(provider_id),
        "date": future(days=days).isoformat(),
        "timezone": "UTC",
        "token": "tok_visa",  # the test payment provider's card that pays
    }
    payload = (await patient.data(CHECKOUT, fields))["completeCheckout"]
    assert payload["messages"] is None, payload


def _refers_to_users(column: Column[Any]) -> bool:
    return any(fk.column.table.name == "users" for fk in column.foreign_keys)


async def full_record(database: Database, user_ids: list[int]) -> dict[str, set[str]]:
    """Every row that refers to one of ``user_ids`` (by any foreign key to users, their own
    rows included), table by table, as JSON without the volatile columns."""
    rows: dict[str, set[str]] = {}
    async with database.write_sessions() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in LOG_TABLES:
                continue
            columns = [c for c in table.columns if _refers_to_users(c)]
            if table.name == "users":
                columns.append(table.c.id)
            if not columns:
                continue
            query = select(table).where(or_(*(c.in_(user_ids) for c in columns)))
            found = (await session.execute(query)).mappings()
            rows[table.name] = {
                json.dumps(
                    {
                        k: v
                        for k, v in row.items()
                        if k not in VOLATILE and (table.name, k) not in NOT_RESTORED
                    },
                    sort_keys=True,
                    default=str,
                )
                for row in found
            }
    return rows


async def owned(database: Database, table: str, column: str, user_id: int) -> int:
    """How many rows of ``table`` name ``user_id`` in ``column``."""
    t = Base.metadata.tables[table]
    async with database.write_sessions() as session:
        result = await session.execute(select(t).where(t.c[column] == user_id))
        return len(result.all())
