"""Fuzzing: documents generated from the schema, with random arguments, never cause a fault.

Every example is a query or mutation that hypothesis-graphql builds from the served schema
(a quarter of them with one schema violation), sent over HTTP to the real ASGI app by
organization A's provider, staff member, patient or an anonymous caller. No answer may be a
5xx, carry an INTERNAL_SERVER_ERROR, or carry an error without ``extensions.code``.

CI runs a bounded number of examples (``CAREBOOK_FUZZ_EXAMPLES``, default below); the long run
is ``python scripts/fuzz.py --minutes M`` (or ``--examples N``).
"""

from __future__ import annotations

import asyncio
import os

from carebook.config import Settings
from carebook.db.engine import Database
from tests.support.fuzzing import Harness, Tally, fuzz

# About 30 s per database on the 2-core CI machine.
EXAMPLES = int(os.environ.get("CAREBOOK_FUZZ_EXAMPLES", "700"))


def test_generated_documents_never_fault(settings: Settings, database: Database) -> None:
    # A sync test with its own event loop: Hypothesis drives the examples and each one runs
    # to completion on the loop that owns the app's connections. ``database`` (unused here)
    # empties the tables afterwards, as after any test.
    tally = Tally()
    with asyncio.Runner() as runner:
        harness = runner.run(Harness.start(settings))
        try:
            fuzz(runner, harness, EXAMPLES, tally, run_seed=None)
        finally:
            runner.run(harness.close())
    print(tally.summary())
    assert tally.sent >= EXAMPLES
    # Not everything was turned away at validation or sign-in: resolvers ran and answered.
    # (About one answer in six has data: a quarter of the documents are invalid on purpose, a
    # quarter are anonymous, and a failing non-null root field nulls the rest.)
    assert tally.with_data >= tally.sent // 20, tally.summary()
