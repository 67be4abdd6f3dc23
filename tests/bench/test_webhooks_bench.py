"""``python -m bench.webhooks``: its receiver counts every POST by webhook and event id."""

from __future__ import annotations

import httpx
from bench.webhooks import EVENT_ID_HEADER, Counts, start_receiver


def test_the_receiver_counts_posts_by_webhook_and_event() -> None:
    counts = Counts()
    receiver = start_receiver(counts)
    base = f"http://127.0.0.1:{receiver.server_address[1]}"
    try:
        with httpx.Client(base_url=base) as http:  # one keep-alive connection for all
            for path, event in (("/hook/1", "7"), ("/hook/2", "7"), ("/hook/1", "7")):
                answer = http.post(
                    path, content=b'{"resource_id":1}', headers={EVENT_ID_HEADER: event}
                )
                assert answer.status_code == 200
    finally:
        receiver.shutdown()
    posts, last_at = counts.snapshot()
    assert posts == {("/hook/1", "7"): 2, ("/hook/2", "7"): 1}  # a duplicate shows as 2
    assert last_at > 0
