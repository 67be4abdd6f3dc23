"""The bench's peer layer (``bench/peer.py``): PostGraphile's documents, answers and report columns.

The last test installs PostGraphile from npm (once, into bench/.peer/) and runs it on PostgreSQL
against ``carebook serve`` on the same generated rows; on SQLite it checks the layer is skipped.
"""

from __future__ import annotations

import json
from typing import Any

from bench.generate import Generated, Options, generate
from bench.operations import USER_DOC, USERS_DOC, read_operations
from bench.run import carebook_command, free_port, measure_peer, parse, peer_server, server
from graphql import FieldNode, OperationDefinitionNode
from graphql import parse as parse_graphql
from sqlalchemy import text

from bench import peer, report
from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.search.arguments import ListArgs
from carebook.tables import data_tables

WORLD = Generated(
    database_url="postgresql+asyncpg://postgres@127.0.0.1:5432/x",
    organization_id=7,
    provider_id=2,
    provider_ids=[2],
    api_key="key",
    patients=500,
    first_patient_id=10,
    last_patient_id=509,
    group_ids=[1],
    tag_ids=[],
)


def _leaf_fields(document: str) -> list[str]:
    """The fields selected on the user objects of a one-root-field document."""
    operation = parse_graphql(document).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    node: Any = operation.selection_set.selections[0]
    while True:
        selections = [s for s in node.selection_set.selections if isinstance(s, FieldNode)]
        if all(s.selection_set is None for s in selections):
            return [s.name.value for s in selections]
        node = selections[0]


def test_the_peer_reads_the_fields_carebook_reads() -> None:
    for ours, theirs in (
        (USER_DOC, peer.user_document()),
        (USERS_DOC, peer.first_page_document()),
    ):
        assert [peer.camel(f) for f in _leaf_fields(ours)] == _leaf_fields(theirs)
    assert peer.camel("phone_number") == "phoneNumber" and peer.camel("id") == "id"


def test_the_first_page_follows_carebooks_default_order_and_size() -> None:
    document = peer.first_page_document()
    assert ListArgs().sort == "last_name_desc" and ListArgs().limit == 10
    assert "first: 10" in document
    assert "orderBy: [LAST_NAME_DESC, ID_DESC]" in document
    assert 'role: "patient"' in document and "organizationId: $organizationId" in document
    other = peer.first_page_document(ListArgs(sort="first_name_asc", limit=25))
    assert "first: 25" in other and "orderBy: [FIRST_NAME_ASC, ID_ASC]" in other


def test_the_peer_is_sent_the_same_patients() -> None:
    reads = read_operations(WORLD, seed=1)
    queries = peer.queries(WORLD, reads)
    assert sorted(queries) == ["user", "users_first"]
    carebook_ids = [int(v["id"]) for v in reads[0].variants]
    sent = [
        json.loads(queries["user"].body(i))["variables"]["id"] for i in range(len(carebook_ids))
    ]
    assert sent == carebook_ids
    page = json.loads(queries["users_first"].body(3))
    assert page["variables"] == {"organizationId": 7}
    assert peer.queries(WORLD, reads[2:]) == {}  # neither compared read: nothing to send


def _peer_user(**changes: Any) -> dict[str, Any]:
    row = {
        "id": 12,
        "firstName": "Zoë",
        "lastName": "Şahin",
        "email": "zoe@example.org",
        "phoneNumber": "+4915465353529",
        "dob": "1971-09-29",
        "active": True,
        "userGroupId": None,
    }
    return {**row, **changes}


def _carebook_user(**changes: Any) -> dict[str, Any]:
    row = {peer.FIELDS[i]: v for i, v in enumerate(_peer_user().values())}
    return {**row, "id": "12", **changes}


def test_answers_compare_field_by_field_without_showing_the_data() -> None:
    queries = peer.queries(WORLD, read_operations(WORLD, seed=1))
    user_query, user_operation = queries["user"], read_operations(WORLD, seed=1)[0]
    ours = json.dumps({"data": {"user": _carebook_user()}}).encode()
    theirs = json.dumps({"data": {"userById": _peer_user()}}).encode()
    ours_rows = peer.carebook_rows(user_operation, ours)
    assert peer.difference(ours_rows, peer.peer_rows(user_query, theirs)) is None
    other = json.dumps({"data": {"userById": _peer_user(dob="1971-09-30", active=False)}})
    found = peer.difference(ours_rows, peer.peer_rows(user_query, other.encode()))
    assert found == "row 1 differs in dob, active"
    assert "1971" not in found
    missing = json.dumps({"data": {"userById": None}}).encode()
    assert peer.difference(ours_rows, peer.peer_rows(user_query, missing)) == (
        "1 rows from Carebook, 0 from PostGraphile"
    )


def test_an_answer_counts_only_with_its_rows() -> None:
    queries = peer.queries(WORLD, read_operations(WORLD, seed=1))
    user, page = queries["user"], queries["users_first"]
    assert user.check(200, json.dumps({"data": {"userById": _peer_user()}}).encode())
    assert not user.check(200, json.dumps({"data": {"userById": None}}).encode())
    assert not user.check(200, json.dumps({"errors": [{"message": "no"}], "data": None}).encode())
    ten = {"data": {"allUsers": {"nodes": [_peer_user(id=i) for i in range(10)]}}}
    assert page.check(200, json.dumps(ten).encode())
    nine = {"data": {"allUsers": {"nodes": [_peer_user(id=i) for i in range(9)]}}}
    assert not page.check(200, json.dumps(nine).encode())


def test_postgraphile_is_started_with_carebooks_worker_count() -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/carebook_bench_x"
    two = peer.command(url, 2, 5001)
    assert (
        two[two.index("--connection") + 1] == "postgres://postgres@127.0.0.1:5432/carebook_bench_x"
    )
    assert two[two.index("--cluster-workers") + 1] == "2"
    assert two[two.index("--port") + 1] == "5001"
    assert "--disable-query-log" in two and "--disable-graphiql" in two
    assert "--cluster-workers" not in peer.command(url, 1, 5001)  # one worker: one process
    assert peer.shown(two).startswith("node bench/.peer/node_modules/.bin/postgraphile ")
    assert peer.ENV == {"NODE_ENV": "production"}


def _result(operation: str, layer: str, rps: float, cpu: float | None = None) -> dict[str, Any]:
    return {
        "operation": operation,
        "layer": layer,
        "requests": 100,
        "errors": 0,
        "seconds": 1.0,
        "rps": rps,
        "median_ms": 2.0,
        "p99_ms": 5.0,
        "peak_rss_mb": 100.0,
        "server_cpu_ms": cpu,
        "first_error": None,
    }


def _document(database: str, about: dict[str, Any] | None) -> dict[str, Any]:
    results = [
        _result("user", "graphql", 1000.0, cpu=1.2),
        _result("user", "bare", 1500.0),
        _result("user", "sql", 3000.0),
        _result("user", "peer", 4000.0, cpu=0.3),
        _result("users_deep", "graphql", 300.0),
    ]
    document = {
        "date": "2026-12-05T17:00:00+00:00",
        "command": "python -m bench",
        "config": {
            "database": database,
            "workers": 2,
            "concurrency": 4,
            "duration": 5.0,
            "write_duration": 5.0,
        },
        "machine": {
            "cores": 2,
            "cpu": "cpu",
            "ram_gb": 23,
            "python": "3.12",
            "sqlite": "3.45",
            "postgresql": "16",
        },
        "patients": 100_000,
        "generation_seconds": 50.0,
        "counts": {"users": 100_000},
        "idle_rss_mb": 200.0,
        "run_seconds": 300.0,
        "operations": ["user", "users_deep"],
        "labels": {"user": "`user(id)`", "users_deep": "`users` offset 50,000"},
        "results": results,
    }
    if about is not None:
        document["peer"] = about
    return document


def _row(markdown: str, label: str, *, last: bool = False) -> list[str]:
    lines = [line for line in markdown.splitlines() if line.startswith(f"| {label} ")]
    line = lines[-1] if last else lines[0]
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_the_report_shows_carebook_against_postgraphile() -> None:
    about = {
        "version": "4.14.1",
        "workers": 2,
        "command": "node bench/.peer/node_modules/.bin/postgraphile --cluster-workers 2",
        "idle_rss_mb": 180.0,
    }
    markdown = report.markdown(_document("postgresql", about))
    header = _row(markdown, "operation")
    assert header[-3:] == [
        "PostGraphile req/s",
        "PostGraphile median ms",
        "Carebook / PostGraphile",
    ]
    user = dict(zip(header, _row(markdown, "`user(id)`"), strict=True))
    assert user["PostGraphile req/s"] == "4,000.0"
    assert user["Carebook / PostGraphile"] == "0.25"  # 1,000 req/s against 4,000
    assert user["GraphQL / bare"] == "1.5x" and user["bare / SQL"] == "2.0x"
    deep = dict(zip(header, _row(markdown, "`users` offset 50,000"), strict=True))
    assert deep["PostGraphile req/s"] == "-" and deep["Carebook / PostGraphile"] == "-"
    assert "- peer: PostGraphile 4.14.1, 2 worker(s), idle RSS 180.0 MB" in markdown
    # The second table: the same pair by server CPU per request, and only the reads both answer.
    by_cpu = dict(zip(_row(markdown, "read"), _row(markdown, "`user(id)`", last=True), strict=True))
    assert by_cpu["Carebook CPU ms"] == "1.20" and by_cpu["PostGraphile CPU ms"] == "0.30"
    assert by_cpu["Carebook / PostGraphile by CPU"] == "0.25"
    assert by_cpu["Carebook / PostGraphile"] == "0.25"
    assert markdown.count("| `users` offset 50,000 ") == 1
    assert "no authentication, access check or audit" in markdown

    about["differences"] = {"user": "request 1: row 1 differs in dob"}
    assert "for user: request 1: row 1 differs in dob" in report.markdown(
        _document("postgresql", about)
    )


def test_the_report_says_sqlite_has_no_peer() -> None:
    markdown = report.markdown(_document("sqlite", {"skipped": peer.SKIPPED_ON_SQLITE}))
    assert "- peer: PostGraphile needs PostgreSQL: no peer layer on SQLite." in markdown
    # Results documents written before the peer layer still render, without a peer line.
    older = report.markdown(_document("postgresql", None))
    assert "- peer" not in older and "| read |" in older  # the results still have a peer row


def test_no_peer_is_an_option() -> None:
    assert parse(["--database", "postgresql"]).peer
    assert not parse(["--database", "postgresql", "--no-peer"]).peer


async def _empty(url: str) -> None:
    database = create_database(Settings(database_url=url))
    try:
        async with database.engine.begin() as connection:
            names = ", ".join(t.name for t in data_tables())
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await database.dispose()


async def test_postgraphile_serves_the_rows_carebook_serves(database_url: str) -> None:
    about: dict[str, Any] = {}
    if database_url.startswith("sqlite"):
        config = parse(["--database", "sqlite", "--database-url", database_url])
        with peer_server(config, WORLD, read_operations(WORLD, 1), about) as running:
            assert running is None
        assert about == {"skipped": peer.SKIPPED_ON_SQLITE}
        return
    config = parse(
        ["--database", "postgresql", "--database-url", database_url, "--workers", "1",
         "--quick", "--duration", "0.3"]
    )  # fmt: skip
    await _empty(database_url)
    try:
        world = await generate(
            Options(database_url, 30, 5, recreate=False, migrate=False), log=lambda _: None
        )
        reads = read_operations(world, 1)
        port = free_port()
        with (
            server(carebook_command(database_url, 1, port), {}, port, "peer-test-carebook"),
            peer_server(config, world, reads, about) as running,
        ):
            assert running is not None and sorted(running.queries) == ["user", "users_first"]
            for operation in reads:
                if operation.name in running.queries:
                    stats = await measure_peer(config, port, world, operation, running, about)
                    assert stats.layer == "peer" and stats.requests > 0, stats.first_error
                    assert stats.errors == 0, stats.first_error
                    assert stats.server_cpu_ms and stats.server_cpu_ms > 0
        # Same rows as Carebook's answers: the documents fit PostGraphile's schema and order.
        assert "differences" not in about, about["differences"]
        assert about["version"].startswith("4.") and about["workers"] == 1
        assert "--cluster-workers" not in about["command"]
    finally:
        await _empty(database_url)
