"""Link: one log line when a broker goes away and one when it is back, never per retry."""

from __future__ import annotations

import logging

import pytest

from slastream.health import Backoff, Link


def test_a_link_logs_each_change_once(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    link = Link("Kafka k:9092", logging.getLogger("test.link"), clock=lambda: now[0])
    caplog.set_level(logging.WARNING, "test.link")
    link.down("refused")  # never reached yet: reported once
    link.down("refused again")
    assert link.problem() == "Kafka k:9092 unavailable for 0 s: refused again"
    now[0] = 5.0
    link.up()
    link.up()
    assert link.connected and link.problem() is None
    for reason in ("timeout", "timeout", "refused"):
        now[0] += 1.0
        link.down(reason)
    now[0] = 20.0
    assert link.seconds_since_success() == 15.0
    link.up()
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "Kafka k:9092 unavailable: refused; retrying until it is back",
        "Kafka k:9092 available again after 5.0 s",
        "Kafka k:9092 unavailable: timeout; retrying until it is back",
        "Kafka k:9092 available again after 14.0 s",
    ]


def test_backoff_doubles_up_to_its_cap_and_starts_over() -> None:
    backoff = Backoff(0.1, 1.0)
    delays = [backoff.next() for _ in range(8)]
    assert 0.08 <= delays[0] <= 0.12 and 0.16 <= delays[1] <= 0.24
    assert all(0.8 <= d <= 1.2 for d in delays[4:])
    backoff.reset()
    assert backoff.next() <= 0.12
