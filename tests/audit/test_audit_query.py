"""auditEvents / auditEventsCount: staff of the organization only, filters, isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.api import Api
from tests.support.world import World

EVENTS = """query($p: ID, $a: ID, $since: String, $until: String, $o: Int, $n: Int) {
  auditEvents(patient_id: $p, actor_id: $a, since: $since, until: $until, offset: $o,
              page_size: $n) {
    id occurred_at organization_id actor_id actor_role credential operation action
    record_type record_id allowed client_address request_id }
  auditEventsCount(patient_id: $p, actor_id: $a, since: $since, until: $until) }"""
USER = "query($id: ID) { user(id: $id) { id } }"


async def _read_patients(api: Api, world: World) -> None:
    """Provider A reads patient 1, staff A reads patient 2, provider B reads B's patient."""
    await api.with_key(world.a.provider.api_key).data(USER, {"id": str(world.a.patient_id)})
    await api.with_key(world.a.staff.api_key).data(USER, {"id": str(world.a.other_patient_id)})
    await api.with_key(world.b.provider.api_key).data(USER, {"id": str(world.b.patient_id)})


async def test_lists_the_organizations_events_newest_first(api: Api, world: World) -> None:
    await _read_patients(api, world)
    data = await api.with_key(world.a.provider.api_key).data(EVENTS)
    events = data["auditEvents"]
    assert [(e["record_id"], e["actor_id"]) for e in events] == [
        (str(world.a.other_patient_id), str(world.a.staff.user_id)),
        (str(world.a.patient_id), str(world.a.provider.user_id)),
    ]
    assert data["auditEventsCount"] == 2
    first = events[1]
    assert first["organization_id"] == str(world.a.provider.organization_id)
    assert (first["operation"], first["action"], first["allowed"]) == ("user", "read", True)
    assert (first["record_type"], first["credential"], first["actor_role"]) == (
        "User", "api_key", "provider",
    )  # fmt: skip


async def test_filters(api: Api, world: World) -> None:
    await _read_patients(api, world)
    caller = api.with_key(world.a.staff.api_key)
    by_patient = await caller.data(EVENTS, {"p": str(world.a.patient_id)})
    assert [e["record_id"] for e in by_patient["auditEvents"]] == [str(world.a.patient_id)]
    by_actor = await caller.data(EVENTS, {"a": str(world.a.staff.user_id)})
    assert [e["actor_id"] for e in by_actor["auditEvents"]] == [str(world.a.staff.user_id)]
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert (await caller.data(EVENTS, {"since": later}))["auditEventsCount"] == 0
    assert (await caller.data(EVENTS, {"until": later}))["auditEventsCount"] == 2
    page = await caller.data(EVENTS, {"o": 1, "n": 1})
    assert [e["record_id"] for e in page["auditEvents"]] == [str(world.a.patient_id)]


async def test_another_organizations_ids_match_nothing(api: Api, world: World) -> None:
    await _read_patients(api, world)
    caller = api.with_key(world.a.provider.api_key)
    for variables in ({"p": str(world.b.patient_id)}, {"a": str(world.b.provider.user_id)}):
        data = await caller.data(EVENTS, variables)
        assert (data["auditEvents"], data["auditEventsCount"]) == ([], 0)


async def test_patients_are_forbidden(api: Api, world: World) -> None:
    codes = await api.with_token(world.a.patient_token).error_codes(EVENTS)
    assert codes and set(codes) == {"FORBIDDEN"}
    assert set(await api.error_codes(EVENTS)) == {"UNAUTHENTICATED"}


async def test_bad_arguments_get_clear_errors(api: Api, world: World) -> None:
    caller = api.with_key(world.a.provider.api_key)
    for variables in ({"since": "yesterday"}, {"p": "abc"}, {"n": 0}, {"n": 501}, {"o": -1}):
        body = await caller.post(EVENTS, variables)
        assert body["data"] is None or body["data"].get("auditEvents") is None
        assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}
