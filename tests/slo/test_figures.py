"""The figures /metrics shows besides the ledger, shared by the engine and the live view."""

from __future__ import annotations

import bisect
import math

from slastream.model.ledger import Episode, EventCounts, Inputs, Ledger, Period, SLOEntry
from slastream.sli.slices import HIST, LAT_COUNT, LAT_SUM, LATENCY_BOUNDS_MS, new_vector
from slastream.slo.figures import SliceFigures, breaches, pipeline


def add_latency(vec: list[float], latency_ms: float) -> None:
    """One latency observation into a slice vector, the way the service SLIs record it."""
    vec[LAT_SUM] += latency_ms
    vec[LAT_COUNT] += 1
    vec[HIST + bisect.bisect_left(LATENCY_BOUNDS_MS, latency_ms)] += 1


def entry(name: str, scope: str, *episodes: Episode) -> SLOEntry:
    return SLOEntry(name, "probe", scope, 0.99, 10, 0.0, 0.0, 1.0, True, None, None,
                    episodes, 0, EventCounts(0, 0))


def test_slices_add_up_to_event_totals_and_a_cumulative_histogram() -> None:
    figures = SliceFigures()
    vec = new_vector()
    vec[0], vec[1] = 3.0, 4.0  # good, total
    for latency in (10.0, 10.0, 1e9):
        add_latency(vec, latency)
    figures.add("rt", "api", vec)
    figures.add("rt", "api", vec)  # a correction adds to the same slice
    figures.add("probe", "api", [1.0, 1.0] + [0.0] * (len(vec) - 2))
    assert figures.sli_event_totals() == {("rt", "api", "good"): 6, ("rt", "api", "bad"): 2,
                                          ("probe", "api", "good"): 1,
                                          ("probe", "api", "bad"): 0}
    (key,) = figures.histograms()
    bounds, cumulative, total_ms = figures.histograms()[key]
    assert key == ("rt", "api") and bounds == list(LATENCY_BOUNDS_MS)
    assert cumulative[-1] == 2 * vec[LAT_COUNT] == 6
    assert cumulative == sorted(cumulative) and cumulative[0] == 4
    assert total_ms == 2 * vec[LAT_SUM]


def test_breaches_are_the_open_episodes_not_excused() -> None:
    ep = Episode(0, 60_000, 1.0, False, "", True)
    led = Ledger(Period(0, 0, "UTC", 0, 0),
                 (entry("a", "x", ep), entry("a", "y", Episode(0, 60_000, 1.0, True, "", True)),
                  entry("b", "x", Episode(0, 60_000, 1.0, False, "", False))),
                 (), (), Inputs())
    assert breaches(led) == {("a", "x"): True, ("a", "y"): False, ("b", "x"): False}


def test_watermark_delay_is_newest_event_minus_oldest_watermark() -> None:
    got = pipeline([(1_000, 5_000), (3_000, 9_000), (-1, -1)], 4, {"tracked_uplinks": 2.0})
    assert got == {"watermark_delay_seconds": 8.0, "late_events_total": 4.0,
                   "tracked_uplinks": 2.0}
    assert math.isnan(pipeline([], 0)["watermark_delay_seconds"])


def test_a_flushed_engine_reports_its_breaches() -> None:
    """After the end of input the watermark is past any date; the breaches are those of
    the newest event's month, not an error."""
    from slastream.engine import Engine
    from slastream.model.events import ProbeResult
    from slastream.sources.decoder import group
    from tests.stream.helpers import START_MS, settings

    engine = Engine(settings())
    engine.feed(group([ProbeResult(START_MS + s * 1000, "api", False, 500, 1.0)
                       for s in range(0, 300, 5)]))
    engine.flush()
    assert engine.breaches()[("api-probe", "api")] is False  # closed by the end of input
    assert ("delivery", "network") in engine.breaches()
