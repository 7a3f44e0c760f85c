"""k of n probe locations (docs/semantics.md#probe-locations): a minute is bad only when at
least ``downtime.failing_locations`` locations failed it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from slastream.config import parse_settings
from slastream.engine import Engine
from slastream.errors import ConfigError
from slastream.model.events import ProbeResult
from slastream.model.ledger import ledger_json
from slastream.openslo import export_main, import_main
from slastream.sli.service import ProbeSLI
from slastream.sources.decoder import group

T0 = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp() * 1000)
MIN_MS = 60_000
CUT = range(10, 16)  # minutes 10..15: six minutes


def config(failing_locations: int | None, **downtime: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"bad_below": 1.0, "min_duration_s": 60, **downtime}
    if failing_locations is not None:
        rule["failing_locations"] = failing_locations
    return {"timezone": "UTC", "slos": [
        {"name": "api-availability", "sli": "probe", "component": "api",
         "objective": 0.999, "downtime": rule}]}


def engine(failing_locations: int | None) -> Engine:
    return Engine(parse_settings(config(failing_locations)))


def probes(location: str, failing: range, minutes: int = 30) -> list[ProbeResult]:
    """Three checks a minute from ``location``; those in ``failing`` minutes fail."""
    return [ProbeResult(T0 + m * MIN_MS + s * 1000 + offset, "api", m not in failing,
                        -1 if m in failing else 200, 80.0, location)
            for m in range(minutes) for s in (0, 20, 40)
            for offset in [1 if location == "fra" else 7]]


def entry(eng: Engine) -> dict[str, Any]:
    (slo,) = ledger_json(eng.ledger("2026-10"))["slos"]
    return dict(slo)


def run(failing_locations: int | None, *streams: list[ProbeResult]) -> dict[str, Any]:
    eng = engine(failing_locations)
    events = sorted((e for s in streams for e in s), key=lambda e: e.time_ms)
    for i in range(0, len(events), 10):
        eng.feed(group(events[i:i + 10]))
        eng.advance()
    eng.flush()
    return entry(eng)


def episodes(slo: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["start"], e["end"]) for e in slo["episodes"]]


def test_one_location_cut_off_is_no_downtime_with_two_required() -> None:
    slo = run(2, probes("fra", range(0)), probes("ams", CUT))
    assert slo["downtime_minutes"] == 0.0 and episodes(slo) == []
    assert dict(slo["events"]) == {"good": 180, "total": 180}


def test_both_locations_failing_is_downtime_with_two_required() -> None:
    slo = run(2, probes("fra", CUT), probes("ams", CUT))
    assert slo["downtime_minutes"] == 6.0
    assert episodes(slo) == [("2026-10-01T00:10:00Z", "2026-10-01T00:16:00Z")]
    assert dict(slo["events"]) == {"good": 144, "total": 180}


def test_overlapping_failures_are_downtime_only_where_both_fail() -> None:
    slo = run(2, probes("fra", range(8, 13)), probes("ams", range(11, 20)))
    assert episodes(slo) == [("2026-10-01T00:11:00Z", "2026-10-01T00:13:00Z")]


@pytest.mark.parametrize("failing_locations", [None, 1])
def test_one_required_is_todays_pooled_rule(failing_locations: int | None) -> None:
    slo = run(failing_locations, probes("fra", range(0)), probes("ams", CUT))
    assert slo["downtime_minutes"] == 6.0
    assert dict(slo["events"]) == {"good": 162, "total": 180}
    # and the locations play no part: the same results without them give the same entry
    unnamed = [e._replace(location="") for e in probes("ams", CUT)]
    assert run(failing_locations, probes("fra", range(0)), unnamed) == slo


def test_a_location_without_results_in_a_minute_does_not_count_as_failing() -> None:
    # "ams" is silent from minute 10 on (its prober lost its network); "fra" fails 12..14
    silent = [e for e in probes("ams", range(0)) if e.time_ms < T0 + 10 * MIN_MS]
    slo = run(2, probes("fra", range(12, 15)), silent)
    assert slo["downtime_minutes"] == 0.0
    assert slo["no_data_minutes"] == run(2, probes("fra", range(0)))["no_data_minutes"]


def test_results_of_a_cut_off_location_delivered_late_keep_the_minutes_verdict() -> None:
    """The cut-off prober buffers its failed results and delivers them after the minutes
    were judged: they count, with the verdict of their minute (good), not against it."""
    eng = engine(2)
    on_time = probes("fra", range(0))
    late = [e for e in probes("ams", CUT) if e.time_ms // MIN_MS - T0 // MIN_MS in CUT]
    rest = [e for e in probes("ams", CUT) if e not in late]
    for m in range(30):
        eng.feed(group([e for e in on_time + rest if e.time_ms // MIN_MS == T0 // MIN_MS + m]))
        eng.advance()
        if m == 25:
            eng.feed(group(late))
    eng.flush()
    slo = entry(eng)
    assert eng.late_events == len(late) == 18
    assert slo["downtime_minutes"] == 0.0
    assert dict(slo["events"]) == {"good": 180, "total": 180}


def test_state_round_trip_mid_stream_gives_the_same_ledger() -> None:
    events = sorted(probes("fra", CUT) + probes("ams", range(12, 20)), key=lambda e: e.time_ms)
    whole = engine(2)
    whole.feed(group(events))
    whole.flush()
    first = engine(2)
    cut = next(i for i, e in enumerate(events) if e.time_ms >= T0 + 13 * MIN_MS + 30_000)
    first.feed(group(events[:cut]))
    first.advance()
    again = Engine.restore(first.settings, first.snapshot())
    again.feed(group(events[cut:]))
    again.flush()
    assert entry(again) == entry(whole)
    assert episodes(entry(whole)) == [("2026-10-01T00:12:00Z", "2026-10-01T00:16:00Z")]


def test_state_without_location_fields_loads() -> None:
    settings = parse_settings(config(2))
    sli = ProbeSLI(settings.slos[0], settings)
    sli.add(probes("fra", CUT)[:5])
    state = {k: v for k, v in sli.state().items()
             if not k.startswith(("location_", "verdict_"))}
    back = ProbeSLI(settings.slos[0], settings)
    back.load_state(state)
    assert back.state()["location_names"] == []
    assert back.max_time_ms == sli.max_time_ms
    full = ProbeSLI(settings.slos[0], settings)
    full.load_state(sli.state())
    assert full.state()["location_names"] == ["fra", "fra"]  # minutes 0 and 1
    assert np.array_equal(full.state()["location_counts"], [[3.0, 3.0], [2.0, 2.0]])


@pytest.mark.parametrize(("slo", "downtime", "problem"), [
    ({}, {"failing_locations": 0}, "failing_locations: must be between 1"),
    ({}, {"failing_locations": 1.5}, "failing_locations: must be a whole number"),
    ({}, {"failing_locations": 2, "window_s": 300}, "needs window_s 60, got 300"),
    ({"sli": "response_time", "target_ms": 500}, {"failing_locations": 2},
     "failing_locations: applies to sli probe only"),
])
def test_the_checker_rejects_bad_locations_rules(slo: dict[str, Any], downtime: dict[str, Any],
                                                 problem: str) -> None:
    raw = config(None)
    raw["slos"][0]["downtime"].update(downtime)
    raw["slos"][0].update(slo)
    with pytest.raises(ConfigError) as err:
        parse_settings(raw)
    assert problem in str(err.value)


def test_the_checker_reads_the_required_locations() -> None:
    assert parse_settings(config(3)).slos[0].downtime.failing_locations == 3
    assert parse_settings(config(None)).slos[0].downtime.failing_locations == 1


def test_the_rule_and_the_probes_survive_an_openslo_round_trip(tmp_path: Path) -> None:
    raw = config(2)
    raw["probes"] = [{"name": "api-http", "component": "api", "location": "ams",
                      "http": {"url": "https://api.example.net/health", "status": [200, 204],
                               "conditions": ["[BODY].status == UP"]}},
                     {"name": "rt", "component": "mqtt", "mqtt": {"url": "mqtt://b:1883"}}]
    raw["probe"] = {"location": "fra", "http_port": None}
    settings = parse_settings(raw)
    exported = tmp_path / "openslo.yaml"
    exported.write_text(export_main(settings), encoding="utf-8")
    text, problems = import_main([str(exported)])
    back = parse_settings(yaml.safe_load(text), settings.source)
    assert problems == []
    assert back.slos[0].downtime.failing_locations == 2
    assert back.probes == settings.probes and back.prober == settings.prober
