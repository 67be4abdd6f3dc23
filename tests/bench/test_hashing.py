"""The bench's argon2id-alone layer: signUp is reported against hashing alone (issue 28)."""

from __future__ import annotations

from bench.hashing import LAYER, measure_hashing, ratio_line


async def test_hashing_alone_is_measured_with_the_servers_hasher() -> None:
    stats = await measure_hashing(concurrency=2, duration=0.3, max_requests=4)
    summary = stats.summary()
    assert (summary["operation"], summary["layer"]) == ("signUp", LAYER)
    assert summary["requests"] >= 1 and summary["errors"] == 0


def test_the_report_line_gives_signup_against_hashing_alone() -> None:
    results = [
        {"operation": "signUp", "layer": "graphql", "rps": 40.0},
        {"operation": "signUp", "layer": LAYER, "rps": 50.0},
    ]
    line = ratio_line(results)
    assert line is not None
    assert "signUp 40.0 req/s" in line and "hashing alone 50.0 hashes/s" in line
    assert "80%" in line
    assert ratio_line(results[:1]) is None  # a run without the hashing layer says nothing
