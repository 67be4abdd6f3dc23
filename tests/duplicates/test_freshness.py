"""Review findings of duplicate detection: the block cap at creation time, pairs kept true when
a patient is corrected, a refusal audited as a read, a scan that keeps what it did not read and
records a pair recorded meanwhile once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, insert, select, update

from carebook.auth.roles import Role
from carebook.db.base import utcnow
from carebook.db.engine import Database
from carebook.duplicates import pairs, service
from carebook.duplicates.models import DuplicatePair
from carebook.users.models import User
from tests.audit.events import stored
from tests.duplicates.test_api import BOB, CANDIDATES, ROBERT, _create, _warnings
from tests.support.api import Api
from tests.support.world import World

UPDATE = """mutation($input: updateClientInput) {
  updateClient(input: $input) { messages { field message } } }"""
# A block one patient bigger than duplicates.scan.MAX_BLOCK once Bob joins it.
CROWD = 50


async def _crowd_the_phone(database: Database, world: World, phone: str) -> None:
    """Patients with nothing in common but one (clinic) phone number, keyed as after a load."""
    org = world.a.provider.organization_id
    rows = [
        {
            "organization_id": org,
            "role": Role.PATIENT,
            "first_name": f"Filler{chr(97 + n % 26)}{chr(97 + n // 26)}",
            "last_name": f"Crowd{chr(97 + n % 26)}",
            "dob": None,
            "phone_number": phone,
            "dietitian_id": world.a.provider.user_id,
        }
        for n in range(CROWD - 1)
    ]
    async with database.write_sessions() as session, session.begin():
        await session.execute(insert(User), rows)
        await service.reindex_organization(session, org)


async def test_a_creation_skips_a_block_over_the_cap_like_the_scan(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    robert = int((await _create(provider, ROBERT))["data"]["createClient"]["user"]["id"])
    async with database.read_sessions() as session:
        phone = await session.scalar(select(User.phone_number).where(User.id == robert))
    assert phone
    await _crowd_the_phone(database, world, phone)

    # Only the crowded phone links Bob (another birthday) to Robert: no evidence.
    bob = await _create(provider, BOB | {"dob": "1990-07-09"})

    assert bob["data"]["createClient"]["user"]["id"] and _warnings(bob) == []
    assert (await provider.data(CANDIDATES))["duplicateCandidatesCount"] == 0
    async with database.write_sessions() as session, session.begin():
        assert await service.scan_organization(session, world.a.provider.organization_id) == 0


async def test_a_corrected_patient_leaves_the_list_and_a_new_match_joins_it(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    await _create(provider, ROBERT)
    bob = (await _create(provider, BOB))["data"]["createClient"]["user"]["id"]
    assert (await provider.data(CANDIDATES))["duplicateCandidatesCount"] == 1

    corrected = {"id": bob, "first_name": "Zed", "last_name": "Quux", "dob": "1951-11-20"}
    changed = await provider.data(UPDATE, {"input": corrected | {"phone_number": "555-111-0000"}})
    assert changed["updateClient"]["messages"] is None
    assert (await provider.data(CANDIDATES))["duplicateCandidatesCount"] == 0

    # Back to Bob's facts, but for the phone: listed again, with the reasons of now.
    back = {"id": bob, "first_name": "Bob", "last_name": "Smyth", "dob": ROBERT["dob"]}
    assert (await provider.data(UPDATE, {"input": back}))["updateClient"]["messages"] is None
    [pair] = (await provider.data(CANDIDATES))["duplicateCandidates"]
    assert pair["reasons"] == [
        "same date of birth",
        "phonetic last name",
        "first name a nickname of the other",
    ]


async def test_a_refusal_is_an_audited_read_of_the_patient_it_names(
    blocking: Api, world: World, database: Database
) -> None:
    provider = blocking.with_key(world.a.provider.api_key)
    robert = int((await _create(provider, ROBERT))["data"]["createClient"]["user"]["id"])
    before = await stored(database, operation="createClient", record_id=robert, action="read")

    refused = await _create(provider, ROBERT | {"email": "other@example.com"})

    assert refused["data"]["createClient"]["user"] is None
    assert str(robert) in refused["data"]["createClient"]["messages"][0]["message"]
    after = await stored(database, operation="createClient", record_id=robert, action="read")
    assert [(e.allowed, e.actor_user_id) for e in after[len(before) :]] == [
        (True, world.a.provider.user_id)
    ]


async def test_a_scan_keeps_the_pairs_recorded_while_it_read(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    org = world.a.provider.organization_id
    await _create(provider, ROBERT)
    async with database.stream_sessions() as session, session.begin():
        scanned = await service.find_in_organization(session, org)

    # Between the scan's read and its recording (the CLI's two transactions), Bob arrives.
    await _create(provider, BOB)

    async with database.write_sessions() as session, session.begin():
        assert await service.record_found(session, org, scanned) == 0
    assert (await provider.data(CANDIDATES))["duplicateCandidatesCount"] == 1


async def test_a_scan_records_a_pair_a_check_recorded_meanwhile_once(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    org = world.a.provider.organization_id
    await _create(provider, ROBERT)
    bob = int((await _create(provider, BOB))["data"]["createClient"]["user"]["id"])
    async with database.write_sessions() as session, session.begin():
        await session.execute(delete(DuplicatePair))  # as if the scan read before Bob's check
        scanned = await service.find_in_organization(session, org)
        await service.check_patients(session, org, [bob])  # ... which records the pair now

        assert await service.record_found(session, org, scanned) == 1

    assert (await provider.data(CANDIDATES))["duplicateCandidatesCount"] == 1


async def test_a_scan_keeps_a_pair_a_check_confirmed_while_it_read(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    org = world.a.provider.organization_id
    await _create(provider, ROBERT)
    bob = (await _create(provider, BOB))["data"]["createClient"]["user"]["id"]
    async with database.write_sessions() as session, session.begin():
        # A bulk change that bypasses the checks (then rekeyed): the pair no longer matches.
        other = {"first_name": "Zed", "last_name": "Quux", "dob": None, "phone_number": None}
        await session.execute(update(User).where(User.id == int(bob)).values(**other))
        await service.reindex_organization(session, org)
    async with database.stream_sessions() as session, session.begin():
        scanned = await service.find_in_organization(session, org)

    # While the scan was reading, Bob's facts were restored: the check confirms the pair.
    back = {key: BOB[key] for key in ("first_name", "last_name", "dob", "phone_number")}
    restored = await provider.data(UPDATE, {"input": back | {"id": bob}})
    assert restored["updateClient"]["messages"] is None

    async with database.write_sessions() as session, session.begin():
        assert await service.record_found(session, org, scanned) == 0
    assert (await provider.data(CANDIDATES))["duplicateCandidatesCount"] == 1


async def test_a_scan_does_not_rewrite_a_pair_a_check_rewrote_while_it_read(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    org = world.a.provider.organization_id
    await _create(provider, ROBERT)
    await _create(provider, BOB)
    # A stale score, so that the scan finds the pair changed and rewrites it...
    async with database.write_sessions() as session, session.begin():
        await session.execute(update(DuplicatePair).values(score=0.01))
    async with database.stream_sessions() as session, session.begin():
        scanned = await service.find_in_organization(session, org)
    # ... but a check rewrote it after the scan's read: the newer word stays.
    later = utcnow() + timedelta(seconds=1)
    async with database.write_sessions() as session, session.begin():
        await session.execute(update(DuplicatePair).values(reasons="checked", updated_at=later))

    async with database.write_sessions() as session, session.begin():
        await service.record_found(session, org, scanned)
    async with database.read_sessions() as session:
        kept = (await session.execute(select(DuplicatePair.score, DuplicatePair.reasons))).all()
    assert [tuple(row) for row in kept] == [(0.01, "checked")]


async def test_a_check_reads_only_the_pairs_it_found(database: Database, world: World) -> None:
    # A new patient's pairs share their low ids with those ids' other pairs (a common name's
    # dozens each): the check gets back its own pairs only.
    org = world.a.provider.organization_id
    people = [
        {
            "organization_id": org,
            "role": Role.PATIENT,
            "first_name": "Pair",
            "last_name": f"Member{chr(97 + n)}",
            "dietitian_id": world.a.provider.user_id,
        }
        for n in range(3)
    ]
    async with database.write_sessions() as session, session.begin():
        old, other, new = (await session.scalars(insert(User).returning(User.id), people)).all()
        every = [(old, other), (old, new), (other, new)]
        await session.execute(
            insert(DuplicatePair),
            [
                {"organization_id": org, "user_id": low, "other_user_id": high}
                | {"score": 0.9, "reasons": "same date of birth"}
                for low, high in every
            ],
        )

    async with database.read_sessions() as session:
        connection = await session.connection()
        found = await connection.run_sync(lambda sync: set(pairs.recorded(sync, org, {(old, new)})))
        whole = await connection.run_sync(lambda sync: set(pairs.recorded(sync, org)))
    assert found == {(old, new)}
    assert whole >= set(every)


async def test_a_check_reads_exactly_the_pairs_it_asks_for_in_any_number(
    database: Database, world: World
) -> None:
    # More pairs than one statement asks for on SQLite, a count that is no power of two (the
    # last statement's list is padded), recorded pairs that combine the asked ids otherwise,
    # pairs asked for that were never recorded, and another practice's pairs of the same ids.
    org, elsewhere = world.a.provider.organization_id, world.b.provider.organization_id
    person = {"organization_id": org, "role": Role.PATIENT, "first_name": "Many"}
    person |= {"dietitian_id": world.a.provider.user_id}
    count = pairs.SQLITE_CHUNK + 45
    async with database.write_sessions() as session, session.begin():
        ids = (
            await session.scalars(
                insert(User).returning(User.id),
                [person | {"last_name": f"Pairs{n:04d}"} for n in range(count + 2)],
            )
        ).all()
        chain = [(ids[n], ids[n + 1]) for n in range(count + 1)]
        skips = [(ids[n], ids[n + 2]) for n in range(count)]  # same ids, never asked for
        rows = [(org, pair, f"reason {pair[0]}") for pair in chain + skips]
        rows += [(elsewhere, pair, "another practice") for pair in chain]
        await session.execute(
            insert(DuplicatePair),
            [
                {"organization_id": o, "user_id": low, "other_user_id": high}
                | {"score": 0.5 + (low % 7) / 20, "reasons": reasons}
                for o, (low, high), reasons in rows
            ],
        )
    asked = set(chain[:count]) | {(ids[0], ids[-1]), (ids[1], ids[-1])}  # the last two: none
    async with database.read_sessions() as session:
        connection = await session.connection()
        found = await connection.run_sync(lambda sync: pairs.recorded(sync, org, asked))
        stored_rows = await session.execute(
            select(DuplicatePair).where(DuplicatePair.organization_id == org)
        )
        by_pair = {(p.user_id, p.other_user_id): p for p in stored_rows.scalars()}
    assert set(found) == set(chain[:count])
    for pair, seen in found.items():
        row = by_pair[pair]
        assert (seen.id, seen.score, seen.reasons) == (row.id, row.score, row.reasons)
        assert seen.updated_at == row.updated_at  # typed as the column: a later write compares it
        assert not seen.dismissed
