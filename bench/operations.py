"""What the benchmark sends: GraphQL documents, their variables, and carebook's SQL for each.

Reads come with a fixed list of variants (ids, keywords); the GraphQL server, the bare endpoint and
the direct SQL all cycle through the same variants, so the three layers answer the same requests.
"""

from __future__ import annotations

import hashlib
import json
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from bench import names
from bench.generate import Generated, _ascii
from carebook import search
from carebook.auth.actor import Actor
from carebook.auth.roles import Role
from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.graphql.users.columns import document_columns
from carebook.users import queries
from carebook.users.credentials import actor_from_api_key

# The users columns a document reads (None: the whole row), as the server works them out.
Columns = tuple[str, ...] | None
USER_FIELDS = "id first_name last_name email phone_number dob active user_group_id"
USER_DOC = f"query($id: ID) {{ user(id: $id) {{ {USER_FIELDS} }} }}"
USERS_DOC = (
    "query($offset: Int, $keywords: String) "
    f"{{ users(offset: $offset, keywords: $keywords) {{ {USER_FIELDS} }} }}"
)
COUNT_DOC = "query($keywords: String) { usersCount(keywords: $keywords) }"
PASSWORD = "correct horse battery staple 42"  # noqa: S105 - a test password, strong enough


@dataclass
class Operation:
    """One benchmarked operation."""

    name: str
    label: str
    root: str
    document: str
    variants: list[dict[str, Any]] = field(default_factory=list)
    # Writes build their variables per request number instead of cycling variants.
    make: Callable[[int], dict[str, Any]] | None = None
    # The carebook call behind a read variant, to capture its SQL (None: no lower bound): the
    # session, the caller, the variables and the users columns the document reads.
    query: Callable[[AsyncSession, Actor, dict[str, Any], Columns], Any] | None = None
    concurrency: int | None = None
    write: bool = False
    # The list offset of a plain `users` page (no keywords), for the latency-against-offset chart.
    offset: int | None = None

    def variables(self, index: int) -> dict[str, Any]:
        if self.make is not None:
            return self.make(index)
        return self.variants[index % len(self.variants)]

    def body(self, index: int) -> bytes:
        return json.dumps({"query": self.document, "variables": self.variables(index)}).encode()

    def check(self, payload: bytes) -> bool:
        """True when the response has data, no errors, and (writes) no messages."""
        data = json.loads(payload)
        if data.get("errors") or not isinstance(data.get("data"), dict):
            return False
        value = data["data"].get(self.root)
        if self.root == "user" and value is None:
            return False
        if self.write:
            return isinstance(value, dict) and not value.get("messages")
        return True


# The list's caches for the direct calls below, as the application keeps one per app.
_SEARCH_STATE = search.SearchState()


def _list_query(keywords: str | None = None, offset: int = 0) -> Callable[..., Any]:
    def run(session: AsyncSession, actor: Actor, _: dict[str, Any], columns: Columns) -> Any:
        args = search.ListArgs(keywords=keywords, offset=offset, limit=10, columns=columns)
        return search.page(session, actor, args, _SEARCH_STATE)

    return run


def _count_query(keywords: str | None = None) -> Callable[..., Any]:
    def run(session: AsyncSession, actor: Actor, _: dict[str, Any], __: Columns) -> Any:
        return search.count(session, actor, search.ListArgs(keywords=keywords), _SEARCH_STATE)

    return run


def _user_query(
    session: AsyncSession, actor: Actor, variables: dict[str, Any], columns: Columns
) -> Any:
    # The server's statement for a provider's user(id) (clear_notifs: the unseen check).
    statement = queries.user_and_unseen_query(actor, columns, unseen=True)
    return session.execute(statement, {"target_user_id": int(variables["id"])})


def _search(name: str, label: str, keywords: list[str]) -> Operation:
    variants = [{"keywords": k} for k in keywords]
    return Operation(name, label, "users", USERS_DOC, variants, query=_search_query)


def _search_query(
    session: AsyncSession, actor: Actor, variables: dict[str, Any], columns: Columns
) -> Any:
    return _list_query(variables.get("keywords"), variables.get("offset", 0))(
        session, actor, variables, columns
    )


def read_operations(world: Generated, seed: int) -> list[Operation]:
    """The reads, with their variants for this generated world."""
    rng = random.Random(seed)
    ids = [
        {"id": str(rng.randint(world.first_patient_id, world.last_patient_id))} for _ in range(200)
    ]
    deep = 100_000 if world.patients >= 200_000 else world.patients // 2
    common_first, common_last = names.FIRST_NAMES[:3], names.LAST_NAMES[:3]
    rare = [_ascii(n) for n in names.RARE_LAST_NAMES[:3]]
    return [
        Operation("user", "`user(id)`", "user", USER_DOC, ids, query=_user_query),
        Operation(
            "users_first",
            "`users` first page",
            "users",
            USERS_DOC,
            [{}],
            query=_search_query,
            offset=0,
        ),
        Operation(
            "users_deep",
            f"`users` offset {deep:,}",
            "users",
            USERS_DOC,
            [{"offset": deep}],
            query=_search_query,
            offset=deep,
        ),
        *offset_sweep(world.patients, deep),
        _search("search1_common", "search, 1 common term", [n.lower() for n in common_last]),
        _search("search1_rare", "search, 1 rare term", rare),
        _search(
            "search2_common",
            "search, 2 common terms",
            [f"{f} {last}" for f, last in zip(common_first, common_last, strict=True)],
        ),
        _search(
            "search2_rare",
            "search, 2 terms (1 rare)",
            [f"{f} {r}" for f, r in zip(common_first, rare, strict=True)],
        ),
        _search(
            "search3_common",
            "search, 3 common terms",
            [f"{f} {last} example" for f, last in zip(common_first, common_last, strict=True)],
        ),
        _search(
            "search3_rare",
            "search, 3 terms (1 rare)",
            [f"{f} {last} {r}" for f, last, r in zip(common_first, common_last, rare, strict=True)],
        ),
        Operation(
            "count_all",
            "`usersCount`",
            "usersCount",
            COUNT_DOC,
            [{}],
            query=lambda s, a, v, c: _count_query()(s, a, v, c),
        ),
        Operation(
            "count_keywords",
            "`usersCount` with keywords",
            "usersCount",
            COUNT_DOC,
            [{"keywords": k.lower()} for k in common_last],
            query=lambda s, a, v, c: _count_query(v["keywords"])(s, a, v, c),
        ),
    ]


# Offsets of the latency-against-offset chart (besides 0, the first page, and the deep page).
SWEEP_OFFSETS = (1_000, 10_000, 500_000)


def offset_sweep(patients: int, deep: int) -> list[Operation]:
    """`users` pages further and further down the list, for the chart of latency against offset.

    Only offsets inside the generated list, and not the deep page, which is measured already.
    """
    return [
        Operation(
            f"users_offset_{offset}",
            f"`users` offset {offset:,}",
            "users",
            USERS_DOC,
            [{"offset": offset}],
            query=_search_query,
            offset=offset,
        )
        for offset in SWEEP_OFFSETS
        if offset < patients and offset != deep
    ]


def extra_reads(root_fields: set[str]) -> list[Operation]:
    """userGroups and tags, when the live schema has them (no lower bound)."""
    found = []
    if "userGroups" in root_fields:
        found.append(
            Operation(
                "user_groups",
                "`userGroups`",
                "userGroups",
                "query { userGroups { id name } }",
                [{}],
            )
        )
    if "tags" in root_fields:
        found.append(Operation("tags", "`tags`", "tags", "query { tags { id name } }", [{}]))
    return found


_BORN_FROM = date(1930, 1, 1).toordinal()
_BORN_SPAN = date(2020, 12, 31).toordinal() - _BORN_FROM


def write_operations(world: Generated, run_id: str, concurrency: int) -> list[Operation]:
    """createClient, updateClient, bulkUpdateClients (1,000 ids) and signUp."""
    span = world.last_patient_id - world.first_patient_id + 1
    bulk = min(1000, span)
    blocks = max(span // bulk, 1) if bulk > 0 else 1

    # Per run: a run after another on the same database would otherwise set each patient to
    # the values the last run gave it, and an update that changes nothing writes nothing.
    salt = zlib.crc32(run_id.encode())

    def create(i: int) -> dict[str, Any]:
        # New people: birthdays spread as the generator's are, and phones of this run's own.
        # With one birthday and phones repeating from run to run, every creation was a likely
        # duplicate of up to 50 earlier ones (the detection's block cap), each scored and
        # recorded inside the creation (docs/performance.md, "createClient's input").
        first, last = names.FIRST_NAMES[i % 50], names.LAST_NAMES[i % 60]
        born = date.fromordinal(_BORN_FROM + (i * 7919 + salt) % _BORN_SPAN)
        return {
            "input": {
                "first_name": first,
                "last_name": last,
                "email": f"new.{run_id}.{i}@example.com",
                "phone_number": f"+1212{(salt + i) % 10_000_000:07d}",
                "dob": born.isoformat(),
            }
        }

    def update(i: int) -> dict[str, Any]:
        patient = world.first_patient_id + (i * 7919) % span
        return {
            "input": {
                "id": str(patient),
                "last_name": names.LAST_NAMES[(i + salt) % 60],
                "phone_number": f"+1305555{(i + salt) % 10000:04d}",
            }
        }

    def bulk_update(i: int) -> dict[str, Any]:
        # Blocks and groups drawn per run, as the other writes' values: unsalted, a run after
        # another on the same database moved each block to the group the last run had moved it
        # to, and measured a bulkUpdateClients that changed nothing (before 2026-12-07 every
        # `--skip-generate` run's figure was such: 51-62 ms against 120-180 ms for real moves).
        # Each block once in every `blocks` requests, to the next group each time it comes
        # again; where it starts, drawn per run and block (one shift for all blocks made every
        # block's first move a no-op in one run out of twenty).
        block = (i * 7919 + salt) % blocks
        start = world.first_patient_id + block * bulk
        first = int.from_bytes(hashlib.blake2b(f"{salt}:{block}".encode(), digest_size=4).digest())
        group = world.group_ids[(first + i // blocks) % len(world.group_ids)]
        return {
            "input": {"ids": [str(start + k) for k in range(bulk)], "user_group_id": str(group)}
        }

    def sign_up(i: int) -> dict[str, Any]:
        return {
            "input": {
                "first_name": "Sign",
                "last_name": f"Up{i}",
                "email": f"signup.{run_id}.{i}@example.com",
                "password": PASSWORD,
                "role": "patient",
                "dietitian_id": str(world.provider_id),
            }
        }

    def doc(root: str, input_type: str, payload: str) -> str:
        return (
            f"mutation($input: {input_type}) {{ {root}(input: $input) "
            f"{{ {payload} messages {{ field message }} }} }}"
        )

    return [
        Operation(
            "createClient",
            "`createClient`",
            "createClient",
            doc("createClient", "createClientInput", "user { id }"),
            make=create,
            write=True,
        ),
        Operation(
            "updateClient",
            "`updateClient`",
            "updateClient",
            doc("updateClient", "updateClientInput", "user { id }"),
            make=update,
            write=True,
        ),
        Operation(
            "bulkUpdateClients",
            f"`bulkUpdateClients` ({bulk:,} ids)",
            "bulkUpdateClients",
            doc("bulkUpdateClients", "bulkUpdateClientsInput", "users { id }"),
            make=bulk_update,
            write=True,
            concurrency=min(2, concurrency),
        ),
        Operation(
            "signUp",
            "`signUp` (argon2id)",
            "signUp",
            doc("signUp", "signUpInput", "user { id } token"),
            make=sign_up,
            write=True,
        ),
    ]


Statement = tuple[str, list[Any]]


async def capture_sql(world: Generated, operations: list[Operation]) -> dict[str, dict[str, Any]]:
    """The SQL carebook sends for each read variant once it runs warm, captured live.

    As the server sends it: only the columns of the users row the document reads, and no
    API-key look-up (the server keeps the caller's actor; before 2026-12-07 the capture, and so
    the bare endpoint and the SQL layer, read the caller's key and whole rows on every request).
    """
    database = create_database(Settings(database_url=world.database_url))
    captured: list[Statement] = []

    def listen(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA")):
            captured.append((statement, list(parameters or ())))

    event.listen(database.read_engine.sync_engine, "before_cursor_execute", listen)
    out: dict[str, dict[str, Any]] = {}
    try:
        async with database.read_sessions() as session:
            actor = await actor_from_api_key(session, world.api_key)
        assert actor is not None and actor.role == Role.PROVIDER
        for operation in operations:
            if operation.query is None:
                continue
            columns = document_columns(operation.document)
            variants = []
            for variables in operation.variants:
                # The second run is captured: a search remembers its plan's hints (range
                # sizes, sort bounds) per process, so the server sends this SQL once warm.
                for _ in range(2):
                    captured.clear()
                    async with database.read_sessions() as session:
                        await operation.query(session, actor, variables, columns)
                variants.append(list(captured))
            out[operation.name] = {"root": operation.root, "variants": variants}
    finally:
        await database.dispose()
    json.dumps(out)  # fails early if a parameter is not JSON (the bare app reads them back)
    return out
