"""The retry delay of a delivery that has failed very many times."""

from __future__ import annotations

from datetime import timedelta

from carebook.config import Settings
from carebook.webhooks.attempts import retry_delay


def test_a_delivery_tried_thousands_of_times_waits_the_maximum(settings: Settings) -> None:
    # 2.0 ** 5000 overflows a float: the exponent must be capped before it gets there.
    delay = retry_delay(settings, 5000)
    ceiling = timedelta(seconds=settings.webhook_retry_max_seconds)
    assert ceiling / 2 <= delay <= ceiling
