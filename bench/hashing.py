"""argon2id alone: the ceiling that signUp is held to (issue 28: within 15 % of it).

The server's own hasher (``carebook.auth.passwords.Passwords``) at the cost the server runs
with (the same ``CAREBOOK_ARGON2_*`` settings, read from this environment), on its own worker
threads (as many as the machine's CPUs, as in each server process), driven at the same
concurrency as signUp, right after it: the machine's rate of argon2id hashes, against which
signUp's rate shows what the rest of a sign-up costs.
"""

from __future__ import annotations

from typing import Any

from bench.client import Stats, run_load
from bench.operations import PASSWORD
from carebook.auth.passwords import Passwords
from carebook.config import Settings

LAYER = "hashing"


async def measure_hashing(*, concurrency: int, duration: float, max_requests: int) -> Stats:
    """Hashes per second of the server's Passwords, ``concurrency`` at a time."""
    passwords = Passwords(Settings())

    async def call(_index: int) -> tuple[bool, str | None]:
        await passwords.hash(PASSWORD)
        return True, None

    return await run_load(
        "signUp",
        LAYER,
        call,
        concurrency=concurrency,
        duration=duration,
        max_requests=max_requests,
        warmup=concurrency,
    )


def ratio_line(results: list[dict[str, Any]]) -> str | None:
    """The report's line comparing signUp with hashing alone; None without both."""
    by_layer = {r["layer"]: r for r in results if r["operation"] == "signUp"}
    sign_up, hashing = by_layer.get("graphql"), by_layer.get(LAYER)
    if not sign_up or not hashing or not hashing["rps"]:
        return None
    share = sign_up["rps"] / hashing["rps"]
    return (
        f"- `signUp` against argon2id alone (the server's `Passwords` at the same cost, same "
        f"concurrency, measured right after): signUp {sign_up['rps']:,.1f} req/s, hashing alone "
        f"{hashing['rps']:,.1f} hashes/s: signUp runs at {share:.0%} of the hashing rate "
        "(target: at least 85 %)"
    )
