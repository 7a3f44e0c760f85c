"""The status page and ``/api/status`` from a real LiveView fed slice batches of two months.

September 2026 and October 2026 (UTC), as a worker's slices topic would hold them:
``api-probe`` and ``delivery`` report every minute from 28 September to 5 October 12:00,
except 4 October (a day without data); ``rx2`` never reports. ``api-probe`` fails on
3 October 10:00–10:30 (an outage), during an announced maintenance on 2 October 02:00–02:30
(excused) and from 5 October 11:50 on (an outage still open); ``delivery`` fails on
29 September 01:00–01:20. Maintenance is announced for 20 October and 2 November.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from slastream.config import parse_settings
from slastream.export.http import HttpServer, serve
from slastream.export.metrics import build_registry
from slastream.export.status import build_page, gather, render_page, status_json
from slastream.export.status.model import slo_state
from slastream.export.status.slo_page import budget_and_burn
from slastream.model.events import Exclusion
from slastream.model.ledger import ledger_json
from slastream.model.spec import Settings
from slastream.model.time import parse_rfc3339_ms as ms
from slastream.sli.slices import SliceDelta
from slastream.stream.records import SliceBatch
from slastream.stream.view import LiveView
from tests.stream.helpers import CONFIG

from .fakesource import LEDGER

MIN = 60_000
FIRST = ms("2026-09-28T00:00:00Z") // MIN
AS_OF = ms("2026-10-05T12:00:00Z") // MIN
NO_DATA_DAY = (ms("2026-10-04T00:00:00Z") // MIN, ms("2026-10-05T00:00:00Z") // MIN)
PROBE_DOWN = [(ms("2026-10-02T02:00:00Z"), ms("2026-10-02T02:30:00Z")),
              (ms("2026-10-03T10:00:00Z"), ms("2026-10-03T10:30:00Z")),
              (ms("2026-10-05T11:50:00Z"), ms("2026-10-05T12:00:00Z"))]
DELIVERY_DOWN = [(ms("2026-09-29T01:00:00Z"), ms("2026-09-29T01:20:00Z"))]
EXCLUSIONS = [
    Exclusion("mnt-past", "api", ms("2026-10-02T02:00:00Z"), ms("2026-10-02T02:30:00Z"),
              ms("2026-09-20T00:00:00Z"), "maintenance", "database upgrade"),
    Exclusion("mnt-oct", "api", ms("2026-10-20T01:00:00Z"), ms("2026-10-20T01:30:00Z"),
              ms("2026-10-01T00:00:00Z"), "maintenance", "kernel update"),
    Exclusion("mnt-nov", "*", ms("2026-11-02T01:00:00Z"), ms("2026-11-02T01:20:00Z"),
              ms("2026-10-01T00:00:00Z"), "maintenance", "broker upgrade"),
]


def _settings() -> Settings:
    """The stream tests' config; delivery is judged on half of the month's minutes."""
    config = copy.deepcopy(CONFIG)
    config["slos"][0]["coverage"] = {"min_ratio": 0.5}
    return parse_settings(config, "test.yaml")


def _vec(good: float, total: float) -> tuple[float, ...]:
    return (good, total) + (0.0,) * 15


def _down(minute: int, windows: list[tuple[int, int]]) -> bool:
    return any(a // MIN <= minute < b // MIN for a, b in windows)


def month_view() -> LiveView:
    """The view, fed one slice batch per stream and day, in order, as the topic holds them."""
    view = LiveView(_settings())
    for offset, day0 in enumerate(range(FIRST, AS_OF, 1440), start=1):
        end = min(day0 + 1440, AS_OF)
        probe: list[SliceDelta] = []
        delivery: list[SliceDelta] = []
        if not NO_DATA_DAY[0] <= day0 < NO_DATA_DAY[1]:
            for m in range(day0, end):
                probe.append(("api-probe", "api", m,
                              _vec(0, 4) if _down(m, PROBE_DOWN) else _vec(4, 4)))
                delivery.append(("delivery", "network", m,
                                 _vec(0, 10) if _down(m, DELIVERY_DOWN) else _vec(10, 10)))
        for stream, slices in (("service", probe), ("lorawan", delivery), ("gateway", [])):
            view.apply(SliceBatch(stream, 0, offset, end, end * MIN, end * MIN, 0,
                                  tuple(slices)))
    view.add_control(list(EXCLUSIONS))
    return view


@pytest.fixture(scope="module")
def view() -> LiveView:
    return month_view()


def _slo(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in doc["slos"] if s["name"] == name)


def _day(slo: dict[str, Any], date: str) -> dict[str, Any]:
    return next(d for d in slo["days"] if d["date"] == date)


def test_states_of_the_current_month(view: LiveView) -> None:
    doc = status_json(gather(view, None))
    assert doc["month"] == "2026-10" and doc["current"] and doc["next"] is None
    assert doc["previous"] == "2026-09"
    states = {(s["name"], s["scope"]): s["state"] for s in doc["slos"]}
    assert states == {("api-probe", "api"): "outage", ("delivery", "network"): "operational",
                      ("rx2", "network"): "no_data", ("api-time", "api"): "no_data"}
    assert [(c["name"], c["state"]) for c in doc["contracts"]] == [
        ("net", "outage"), ("Objectives outside any contract", "no_data")]
    assert doc["state"] == "outage"


def test_daily_bars_show_the_outage_the_maintenance_and_the_day_without_data(
        view: LiveView) -> None:
    probe = _slo(status_json(gather(view, None)), "api-probe")
    assert len(probe["days"]) == 90
    assert probe["days"][-1]["date"] == "2026-10-05"  # the last judged day
    assert _day(probe, "2026-10-03")["kind"] == "below"
    assert _day(probe, "2026-10-03")["downtime_minutes"] == 30
    assert _day(probe, "2026-10-02")["kind"] == "maintenance"
    assert _day(probe, "2026-10-02")["excused_minutes"] == 30
    assert _day(probe, "2026-10-02")["availability"] == 1.0
    assert _day(probe, "2026-10-04") == {
        "date": "2026-10-04", "kind": "no_data", "availability": None,
        "downtime_minutes": 0.0, "excused_minutes": 0.0, "no_data_minutes": 1440}
    assert _day(probe, "2026-10-01")["kind"] == "ok"
    # Before what the slices topic holds, and in months the view never saw: no data.
    assert _day(probe, "2026-09-27")["kind"] == "no_data"
    assert probe["days"][0]["date"] == "2026-07-08" and probe["days"][0]["kind"] == "no_data"


def test_incidents_and_maintenance(view: LiveView) -> None:
    doc = status_json(gather(view, None))
    incidents = [(i["slo"], i["start"], i["open"], i["excused"]) for i in doc["incidents"]]
    assert incidents == [
        ("api-probe", "2026-10-05T11:50:00Z", True, False),  # open first
        ("api-probe", "2026-10-03T10:00:00Z", False, False),
        ("api-probe", "2026-10-02T02:00:00Z", False, True)]
    assert [x["id"] for x in doc["maintenance"]["upcoming"]] == ["mnt-oct", "mnt-nov"]
    assert doc["maintenance"]["active"] == []


def test_a_past_month_from_the_same_view(view: LiveView) -> None:
    doc = status_json(gather(view, "2026-09"))
    assert (doc["month"], doc["current"], doc["next"]) == ("2026-09", False, "2026-10")
    assert doc["period"]["as_of"] == "2026-10-01T00:00:00Z"  # September is final
    assert [(i["slo"], i["start"], i["minutes"]) for i in doc["incidents"]] == [
        ("delivery", "2026-09-29T01:00:00Z", 20.0)]
    delivery = _slo(doc, "delivery")
    assert delivery["days"][-1]["date"] == "2026-09-30"
    assert _day(delivery, "2026-09-29")["downtime_minutes"] == 20
    assert _day(delivery, "2026-09-27")["kind"] == "no_data"
    assert doc["maintenance"]["upcoming"] == []  # only the current month looks ahead
    # three days of September's slices are too little evidence to tell
    assert _slo(doc, "api-probe")["state"] == "insufficient_data"
    assert _slo(doc, "delivery")["state"] == "degraded"  # 99.5 % of its events good


def test_state_precedence_outage_maintenance_degraded(view: LiveView) -> None:
    led = view.ledger("2026-10")
    probe = next(e for e in led.slos if e.name == "api-probe")
    assert slo_state(probe, False, True) == "outage"  # its open episode wins
    calm = dataclasses.replace(probe, episodes=())
    assert slo_state(calm, False, True) == "maintenance"
    assert slo_state(calm, False, False) == "degraded"  # its probes 98.9 % good < 99.9 %
    assert slo_state(dataclasses.replace(calm, sli_value=0.9995), False, False) == "operational"


def test_budget_and_burn_end_at_the_ledgers_budget(view: LiveView) -> None:
    page = gather(view, None)
    probe = next(s for s in page.slos if s.entry.name == "api-probe")
    figures = budget_and_burn(probe.days, probe.entry.objective)
    assert len(figures) == 5
    assert figures[-1][0] == pytest.approx(probe.entry.error_budget_remaining, abs=1e-6)
    burn_oct3 = figures[2][1]
    assert burn_oct3 == pytest.approx(30 / 1440 / 0.001)
    assert figures[1][1] == 0.0  # the excused day burns nothing


def test_the_page_is_self_contained_and_says_states_in_words(view: LiveView) -> None:
    html = render_page(gather(view, None))
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert '<span class="state state-outage">Outage</span>' in html
    assert '<span class="state state-no_data">No data</span>' in html
    assert "2026-10-04: no data" in html and "2026-10-02: excused maintenance" in html
    assert "kernel update" in html or "mnt-oct" in html
    assert 'href="/?month=2026-09"' in html and 'href="/slo/api-probe?month=2026-10"' in html


def test_a_ledger_alone_renders_with_earlier_days_without_data() -> None:
    page = build_page(LEDGER, {("api-probe", "api"): True}, [None] * 3, (), "2026-10")
    probe = page.slos[0]
    assert probe.state == "outage" and probe.history[-1].date == "2026-10-12"
    assert probe.history[0].kind == "no_data" and len(probe.history) == 90
    assert page.slos[1].state == "degraded"  # delivery's SLI 98.1 % under 99.9 %, no episode


@pytest.fixture
async def server(view: LiveView) -> AsyncIterator[HttpServer]:
    async with await serve(view, build_registry(view), "127.0.0.1", 0) as srv:
        yield srv


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as r:
        return r.status, await r.text()


async def test_http_serves_both_months_of_the_slices_topic(server: HttpServer,
                                                           view: LiveView) -> None:
    async with aiohttp.ClientSession() as session:
        for month in ("2026-09", "2026-10"):
            async with session.get(f"{server.url}/api/ledger?month={month}") as r:
                assert r.status == 200
                assert await r.json() == ledger_json(view.ledger(month))
        async with session.get(f"{server.url}/api/ledger?month=2026-09") as r:
            sept = await r.json()
    assert sept["period"]["start"] == "2026-09-01T00:00:00Z"
    delivery = next(s for s in sept["slos"] if s["name"] == "delivery")
    assert delivery["downtime_minutes"] == 20 and delivery["total_minutes"] == 43200


async def test_http_status_api_pages_and_month_navigation(server: HttpServer) -> None:
    status, body = await _get(f"{server.url}/api/status?month=2026-09")
    assert status == 200 and '"month":"2026-09"' in body
    status, html = await _get(f"{server.url}/?month=2026-09")
    assert status == 200 and "slastream — 2026-09" in html
    assert 'href="/?month=2026-08"' in html and 'href="/?month=2026-10"' in html
    status, html = await _get(f"{server.url}/slo/api-probe?month=2026-10")
    assert status == 200 and "Error budget over the month" in html and "Burn rate" in html
    assert "<svg" in html and "http://" not in html
    status, body = await _get(f"{server.url}/slo/nothing")
    assert status == 404 and "no SLO named 'nothing'" in body
    status, body = await _get(f"{server.url}/api/status?month=2026-13")
    assert status == 400 and "month must be YYYY-MM" in body
