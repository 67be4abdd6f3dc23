"""``python -m bench.webhooks``: its receiver counts every POST by webhook and event id, and a
small run against a real ``carebook serve`` delivers every event to every webhook once."""

from __future__ import annotations

from pathlib import Path

import httpx
from bench.generate import Options, generate
from bench.webhook_receiver import EVENT_ID_HEADER
from bench.webhooks import Receiver, measure, parse, report


def test_the_receiver_counts_posts_by_webhook_and_event() -> None:
    receiver = Receiver()  # its own process, as the bench runs it
    base = f"http://127.0.0.1:{receiver.port}"
    try:
        with httpx.Client(base_url=base) as http:  # one keep-alive connection for all
            for path, event in (("/hook/1", "7"), ("/hook/2", "7"), ("/hook/1", "7")):
                answer = http.post(
                    path, content=b'{"resource_id":1}', headers={EVENT_ID_HEADER: event}
                )
                assert answer.status_code == 200
        posts, last_at = receiver.snapshot()
        distinct = receiver.distinct()
    finally:
        receiver.close()
    assert posts == {("/hook/1", "7"): 2, ("/hook/2", "7"): 1}  # a duplicate shows as 2
    assert distinct == 2
    assert last_at > 0


async def test_a_small_run_delivers_every_event_to_every_webhook_once(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'webhooks.db'}"
    world = await generate(Options(url, 40, 3), log=lambda _: None)
    result = await measure(
        parse(["--updates", "15", "--concurrency", "2", "--wait", "120"]), url, world
    )
    phases = (result.baseline, result.with_webhooks, result.baseline_after)
    assert [phase["errors"] for phase in phases] == [0, 0, 0]
    assert all(phase["requests"] == 15 for phase in phases)
    assert result.events > 0 and result.expected_deliveries == 3 * result.events
    assert (result.missing, result.duplicates) == (0, 0)
    assert "missing 0, duplicates 0" in report(result)
