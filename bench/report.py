"""Markdown tables from a results document, and docs/performance.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import app_import, charts, load, peer
from bench.hashing import ratio_line

NOTES_MARKER = "<!-- notes: everything below is kept when the tables are regenerated -->"

INTRO = """# Performance

Measured with the harness in `bench/` (`python -m bench`, see `bench/run.py`). Each run generates
one organization with N patients (`bench/generate.py`: names from several cultures with accents,
E.164 phones, dates of birth, record identifiers, groups, tags, locations, ~5 % archived,
deterministic per `--seed`), starts `carebook serve --workers N` as a user would, and drives it
over HTTP from one client process (raw keep-alive HTTP/1.1, 16 requests in flight unless stated).

For each read there are three layers, answering the same requests (same ids, same keywords):
- **GraphQL**: `POST /graphql` on `carebook serve`, with an API key (`Authorization: Basic`).
- **bare**: `bench/bare.py`, a Starlette endpoint under uvicorn with the same worker count, that
  replays the exact SQL carebook sends for that request (captured live on a second, warm run: the
  API-key look-up, which the server itself caches for 2 s, and the read) on carebook's own engine,
  and returns the same JSON. The difference to GraphQL is the cost of GraphQL (Strawberry), the
  ORM and carebook's per-request work (including the read audit trail).
- **SQL**: the same statements replayed on carebook's engine (same driver) from the benchmark
  process, without HTTP. The difference to bare is the cost of HTTP, uvicorn and JSON.

On PostgreSQL a fourth layer, the **peer**, answers `user(id)` and the `users` first page:
PostGraphile 4 (the Node GraphQL server over PostgreSQL, installed from npm into `bench/.peer/` by
the bench, `bench/peer.py`), with as many worker processes as `carebook serve`, on the same
database, reading the same fields of the same rows. It does no authentication, access check or
audit. "Carebook / PostGraphile" is Carebook's throughput over PostGraphile's (1.00: as fast);
a second table compares the servers' CPU time per request, which swings less than throughput on
a busy machine. SQLite runs have no peer (PostGraphile needs PostgreSQL); `--no-peer` skips it.

`createClient` and `updateClient` have a SQL layer too (`bench/write_floor.py`): the statements of
their write transaction, captured through carebook's app, replayed in one committed transaction
per request on carebook's write engine (SQLite's `BEGIN IMMEDIATE` and `synchronous=FULL`
commits), with a new email, patient id and unique tokens per request; "GraphQL / SQL" is then
what carebook's request adds to its own statements.

"GraphQL / bare" and "bare / SQL" are throughput ratios (how many times more requests per second the
lower layer serves); each operation's bare endpoint is measured right after its GraphQL run (both
servers stay up), so the two see the machine in the same phase.
Peak RSS is the sum over the server's processes (uvicorn's supervisor and its
workers), sampled from `/proc` every 100 ms during that operation; the idle RSS is given per worker
too, once every worker serves. After the three layers, every read runs again with 64 clients at
once ("Under load": p99, errors, and the workers' garbage-collection pauses, timed inside the
server by `bench/gc_probe`). Writes run after the reads (they change the data slightly: new
patients, group moves). The bench starts `python -m carebook.cli.main serve` with the
interpreter running it and its own checkout's `src` first on `PYTHONPATH`, never the `carebook`
script first on `PATH` (which may be another checkout's build).

**Caveat**: the machine has 2 cores shared by the server's workers, the load generator and the
database, and other engineers ran test suites at the same time. Figures are noisy (easily +-20 %);
compare layers within one run rather than across runs.
"""


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _ratio(upper: dict[str, Any] | None, lower: dict[str, Any] | None) -> str:
    if not upper or not lower or not upper["rps"]:
        return "-"
    return f"{lower['rps'] / upper['rps']:.1f}x"


def _share(carebook: dict[str, Any] | None, other: dict[str, Any] | None) -> str:
    """Carebook's throughput as a fraction of another server's (0.50: half as many req/s)."""
    if not carebook or not other or not other["rps"]:
        return "-"
    return f"{carebook['rps'] / other['rps']:.2f}"


def peer_lines(document: dict[str, Any]) -> list[str]:
    """How the peer ran (or why it did not), for the run's header; nothing for older runs."""
    about = document.get("peer")
    if not about:
        return []
    if about.get("skipped"):
        return [f"- peer: {about['skipped']}"]
    lines = [
        f"- peer: PostGraphile {about['version']}, {about['workers']} worker(s), idle RSS "
        f"{about.get('idle_rss_mb', '-')} MB: `NODE_ENV=production {about['command']}` "
        "(no authentication, access check or audit)"
    ]
    lines += [
        f"- peer answer differs from Carebook's for {name}: {why}"
        for name, why in about.get("differences", {}).items()
    ]
    return lines


def _cpu_share(carebook: dict[str, Any], other: dict[str, Any]) -> str:
    """The other server's CPU per request over Carebook's (0.50: Carebook spends twice as much)."""
    ours, theirs = carebook.get("server_cpu_ms"), other.get("server_cpu_ms")
    return "-" if not ours or theirs is None else f"{theirs / ours:.2f}"


def peer_table(document: dict[str, Any]) -> list[str]:
    """Carebook against the peer on the reads both answer, by throughput and by server CPU."""
    by_key = {(r["operation"], r["layer"]): r for r in document["results"]}
    pairs = [
        (document["labels"].get(name, name), by_key[(name, "graphql")], by_key[(name, "peer")])
        for name in document["operations"]
        if (name, "graphql") in by_key and (name, "peer") in by_key
    ]
    if not pairs:
        return []
    lines = [
        "",
        "Against the peer: server CPU per request is the user + system time of all of each "
        "server's processes over its measured run (from /proc), PostgreSQL's own not counted; "
        "it swings less than throughput on a busy machine. PostGraphile is warmed up with "
        f"{peer.WARM_REQUESTS:,} requests per read first (Node compiles hot code late).",
        "",
        "| read | Carebook req/s | PostGraphile req/s | Carebook / PostGraphile "
        "| Carebook CPU ms | PostGraphile CPU ms | Carebook / PostGraphile by CPU |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {label} | {_fmt(ours['rps'])} | {_fmt(theirs['rps'])} | {_share(ours, theirs)} "
        f"| {_fmt(ours.get('server_cpu_ms'), 2)} | {_fmt(theirs.get('server_cpu_ms'), 2)} "
        f"| {_cpu_share(ours, theirs)} |"
        for label, ours, theirs in pairs
    ]
    return lines


def _per_process(idle: dict[str, Any] | None) -> str:
    """Idle RSS of each worker (and of uvicorn's supervisor), when the run measured it."""
    if not idle or not idle.get("workers_mb"):
        return ""
    workers = ", ".join(f"{mb:g}" for mb in idle["workers_mb"])
    supervisor = idle.get("supervisor_mb")
    return f" (per worker: {workers} MB" + (
        f"; supervisor {supervisor:g} MB)" if supervisor is not None else ")"
    )


def markdown(document: dict[str, Any]) -> str:
    """The results of one run as a Markdown section."""
    by_key = {(r["operation"], r["layer"]): r for r in document["results"]}
    config, machine = document["config"], document["machine"]
    database = "SQLite" if config["database"] == "sqlite" else "PostgreSQL"
    generation = document.get("generation_seconds")
    lines = [
        f"## {database}, {document['patients']:,} patients",
        "",
        f"- date: {document['date']}; command: `{document['command']}`",
        f"- server: `carebook serve --workers {config['workers']}`; concurrency "
        f"{config['concurrency']}; {config['duration']:g} s per read operation and layer, "
        f"{config['write_duration']:g} s per write",
        f"- machine: {machine['cores']} cores ({machine['cpu']}), {machine['ram_gb']} GB RAM, "
        f"Python {machine['python']}, SQLite {machine['sqlite']}, "
        f"PostgreSQL {machine['postgresql']}",
        "- generation: "
        + (f"{generation:.0f} s" if generation else "-")
        + (" (database reused with --skip-generate)" if document.get("generation_reused") else "")
        + f"; rows: {', '.join(f'{k} {v:,}' for k, v in document['counts'].items())}",
        f"- whole run: {document['run_seconds']:.0f} s; server RSS when idle: "
        f"{document['idle_rss_mb']} MB" + _per_process(document.get("idle_rss")),
        *([f"- {app_import.line(document['app_import'])}"] if document.get("app_import") else []),
        *peer_lines(document),
        "",
        "| operation | req/s | median ms | p99 ms | errors | peak RSS MB | bare req/s "
        "| bare median ms | SQL req/s | SQL median ms | GraphQL / bare | bare / SQL "
        "| GraphQL / SQL | PostGraphile req/s | PostGraphile median ms | Carebook / PostGraphile |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in document["operations"]:
        gql = by_key.get((name, "graphql"))
        bare, sql = by_key.get((name, "bare")), by_key.get((name, "sql"))
        other = by_key.get((name, "peer"))
        if gql is None:
            continue
        lines.append(
            f"| {document['labels'].get(name, name)} | {_fmt(gql['rps'])} "
            f"| {_fmt(gql['median_ms'], 2)} | {_fmt(gql['p99_ms'], 2)} | {gql['errors']} "
            f"| {_fmt(gql['peak_rss_mb'], 0)} | {_fmt(bare['rps'] if bare else None)} "
            f"| {_fmt(bare['median_ms'] if bare else None, 2)} "
            f"| {_fmt(sql['rps'] if sql else None)} "
            f"| {_fmt(sql['median_ms'] if sql else None, 2)} "
            f"| {_ratio(gql, bare)} | {_ratio(bare, sql)} | {_ratio(gql, sql)} "
            f"| {_fmt(other['rps'] if other else None)} "
            f"| {_fmt(other['median_ms'] if other else None, 2)} | {_share(gql, other)} |"
        )
    lines += peer_table(document)
    hashing = ratio_line(document["results"])
    if hashing:
        lines += ["", hashing]
    lines += load.markdown(document.get("under_load") or [], document["labels"])
    errors = [r for r in document["results"] if r["errors"]]
    if errors:
        lines += ["", "Errors (first of each):", ""]
        lines += [
            f"- {r['operation']} ({r['layer']}): {r['errors']} - `{(r['first_error'] or '')[:300]}`"
            for r in errors
        ]
    return "\n".join(lines) + "\n"


CHARTS = """## Charts

Drawn by `python -m bench --docs` from the runs below (`bench/charts.py`).

![Requests per second per operation, SQLite and PostgreSQL](performance/throughput.png)

![Median and p99 latency per operation, SQLite and PostgreSQL](performance/latency.png)

![Median latency of a users page against its offset](performance/offset.png)
"""


def write_docs(path: Path, results: Path) -> None:
    """Rewrite docs/performance.md and its charts from the latest full runs, keeping the notes."""
    notes = ""
    if path.exists() and NOTES_MARKER in (text := path.read_text(encoding="utf-8")):
        notes = text.split(NOTES_MARKER, 1)[1]
    runs = {
        database: json.loads(latest.read_text(encoding="utf-8"))
        for database in ("sqlite", "postgresql")
        if (latest := results / f"latest-{database}.json").exists()
    }
    sections = [markdown(document) for document in runs.values()]
    if runs:
        charts.write(runs, path.parent / "performance")
        sections.append(CHARTS)
    body = INTRO + "\n" + "\n".join(sections) + "\n" + NOTES_MARKER + (notes or "\n")
    path.write_text(body, encoding="utf-8")
