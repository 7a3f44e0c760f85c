"""Intensive communication: runs of requests less than a second apart lasting over 10 minutes.

The EVRYTHNG SLA lets a device in an intensive-communication state request no "more than once
every one (1) second and for periods of no longer than 10 minutes". An episode is a run of a
device's requests, each less than a second after the one before, lasting (first to last
request) longer than 10 minutes.
"""

from __future__ import annotations

import random

from slastream.usage.counter import UsageCounter, UsageRequest
from slastream.usage.report import usage_figures
from tests.usage.helpers import every, ms, report, run, terms


def test_two_per_second_for_twelve_minutes_is_one_episode() -> None:
    """2 requests/s from 10:00:00.000 to 10:12:00.000: 1,441 requests 500 ms apart, one run
    from 10:00:00 to 10:12:00, 720 s = 12.0 minutes > 10: one episode of 12 minutes."""
    counter = run(every("a-1", ms("2026-10-05T10:00:00"), 500, 1441))
    episodes = report(counter, "2026-10").to_json()["intensive"]
    assert episodes == [{"client": "a-1", "start": "2026-10-05T10:00:00Z",
                         "end": "2026-10-05T10:12:00Z", "minutes": 12.0, "ongoing": False}]


def test_two_per_second_for_nine_minutes_is_none() -> None:
    """The same for 9 minutes (1,081 requests, 540 s): not longer than 10 minutes."""
    counter = run(every("a-1", ms("2026-10-05T10:00:00"), 500, 1081))
    assert report(counter, "2026-10").intensive == ()


def test_exactly_ten_minutes_is_allowed_and_a_step_more_is_not() -> None:
    """1,201 requests 500 ms apart last exactly 600 s: allowed ("no longer than 10 minutes");
    1,202 last 600.5 s: an episode of 10.01 minutes."""
    at = ms("2026-10-05T10:00:00")
    assert report(run(every("a-1", at, 500, 1201)), "2026-10").intensive == ()
    [episode] = report(run(every("a-1", at, 500, 1202)), "2026-10").intensive
    assert episode.end_ms - episode.start_ms == 600_500


def test_once_every_second_is_not_intensive() -> None:
    """One request every 1,000 ms for an hour: no two requests less than a second apart."""
    counter = run(every("a-1", ms("2026-10-05T10:00:00"), 1000, 3600))
    assert report(counter, "2026-10").intensive == ()


def test_a_pause_of_a_second_splits_the_run() -> None:
    """2/s for 6 minutes, a 1,000 ms pause, 2/s for 6 more: two runs of about 6 minutes."""
    at = ms("2026-10-05T10:00:00")
    first = every("a-1", at, 500, 721)  # 10:00:00 .. 10:06:00
    second = every("a-1", at + 361_000, 500, 721)  # 10:06:01 .. 10:12:01
    assert report(run(first + second), "2026-10").intensive == ()


def test_jitter_does_not_break_a_run() -> None:
    """2/s with each request up to 200 ms early or late: gaps between 100 and 900 ms, all
    under a second, so 12 minutes stay one episode (a count per calendar second would see
    seconds with a single request and lose it)."""
    rng = random.Random(7)
    at = ms("2026-10-05T10:00:00")
    requests = [UsageRequest(at + i * 500 + rng.randint(-200, 200), "api", "a-1")
                for i in range(1, 1440)]
    [episode] = report(run(requests), "2026-10").intensive
    assert 11.9 < episode.minutes < 12.0


def test_devices_are_separate_and_order_of_arrival_does_not_matter() -> None:
    """Two devices at 2/s, one for 12 and one for 11 minutes, interleaved and shuffled within
    the lateness (batches of 200 in random order): the same two episodes."""
    at = ms("2026-10-05T10:00:00")
    requests = every("a-1", at, 500, 1441) + every("b-2", at + 250, 500, 1321)
    requests.sort()
    rng = random.Random(1)
    counter = UsageCounter(terms(), "UTC", lateness_s=120)
    for i in range(0, len(requests), 200):
        batch = requests[i:i + 200]
        rng.shuffle(batch)
        counter.feed(batch)
        counter.advance()
    counter.flush()
    got = [(e.client, e.minutes) for e in report(counter, "2026-10").intensive]
    assert got == [("a-1", 12.0), ("b-2", 11.0)]


def test_episode_across_a_month_boundary_is_in_both_months() -> None:
    """2/s from 23:55 on 31 October to 00:07 on 1 November (UTC): one 12-minute episode,
    listed in October's and November's ledgers with its full times."""
    counter = run(every("a-1", ms("2026-10-31T23:55:00"), 500, 1441))
    october = report(counter, "2026-10").to_json()["intensive"]
    november = report(counter, "2026-11").to_json()["intensive"]
    assert october == november
    assert october[0]["start"] == "2026-10-31T23:55:00Z" and october[0]["minutes"] == 12.0
    assert report(counter, "2026-12").intensive == ()


def test_a_run_still_going_is_reported_as_ongoing() -> None:
    """Without flush, 11 minutes of 2/s with the watermark 100 ms after the last request:
    the run may go on; it is already an episode, marked ongoing, and counted on /metrics."""
    at = ms("2026-10-05T10:00:00")
    counter = UsageCounter(terms(), "UTC", lateness_s=120)
    counter.feed(every("a-1", at, 500, 1321))
    counter.advance(at + 660_100)
    [episode] = report(counter, "2026-10").intensive
    assert episode.ongoing and episode.minutes == 11.0
    assert usage_figures(counter).intensive_ongoing == 1
    counter.advance(at + 662_000)
    assert not report(counter, "2026-10").intensive[0].ongoing
