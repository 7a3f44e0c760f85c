"""Replays with ticket and request-log messages: the ledger's ``support`` and ``usage``
sections, and their metrics (per severity and per band, never a ticket or client id)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import generate_latest

from slastream.config import load_settings
from slastream.engine import Engine
from slastream.export.metrics import build_registry
from slastream.export.status import render_status
from slastream.model.ledger import ledger_json
from slastream.replay import replay
from tests.capture_builder import Capture, ts, utc
from tests.support.contracts import at
from tests.support.test_cases import BERLIN

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "examples" / "contracts"
LONDON = "Europe/London"


def _when(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000).astimezone()


def _ticket(cap: Capture, ident: str, event: str, ms: int, contract: str,
            severity: str = "", region: str | None = None, country: str | None = None,
            channel: str | None = None) -> None:
    payload: dict[str, Any] = {"id": ident, "event": event, "time": ts(_when(ms)),
                               "contract": contract, "region": region, "country": country,
                               "channel": channel}
    if severity:
        payload["severity"] = severity
    cap.msg(_when(ms), "slastream/ticket", payload)


def _contract(engine: Engine, month: str, name: str) -> dict[str, Any]:
    ledger = ledger_json(engine.ledger(month))
    found: list[dict[str, Any]] = [c for c in ledger["contracts"] if c["name"] == name]
    assert len(found) == 1
    return found[0]


def test_cumulocity_tickets_in_the_ledger(tmp_path: Path) -> None:
    """Two cases of tests/support/test_cases.py through a capture.

    Critical opened Friday 2026-11-20 16:50 CET on the portal, answered Monday 09:30 CET:
    the 2 business hours end Monday 2026-11-23 09:50 CET (08:50Z), so it is met. Standard
    opened on the portal Sunday 2026-11-22 10:00 CET and phoned in at 10:15 CET, never
    answered: Sunday is not a business day, so its 1 day runs round the clock from the phone
    call → Monday 2026-11-23 10:15 CET (09:15Z), missed as of the month's end.
    """
    cap = Capture()
    _ticket(cap, "T-1", "opened", at(BERLIN, 2026, 11, 20, 16, 50), "cumulocity", "Critical",
            "EMEA", "DE", "portal")
    _ticket(cap, "T-2", "opened", at(BERLIN, 2026, 11, 22, 10, 0), "cumulocity", "Standard",
            "EMEA", "DE", "portal")
    _ticket(cap, "T-2", "contact", at(BERLIN, 2026, 11, 22, 10, 15), "cumulocity",
            channel="phone")
    _ticket(cap, "T-1", "response", at(BERLIN, 2026, 11, 23, 9, 30), "cumulocity")
    engine = replay(load_settings(CONTRACTS / "cumulocity.yaml"),
                    str(cap.write(tmp_path / "tickets.jsonl")))
    support = _contract(engine, "2026-11", "cumulocity")["support"]
    got = {t["id"]: (t["severity"], t["reaction_deadline"], t["reacted"], t["met"])
           for t in support["tickets"]}
    assert got == {
        "T-1": ("Critical", "2026-11-23T08:50:00Z", "2026-11-23T08:30:00Z", True),
        "T-2": ("Standard", "2026-11-23T09:15:00Z", None, False),
    }
    assert support["by_severity"]["Critical"] == {"tickets": 1, "met": 1, "missed": 0,
                                                  "open": 0}
    assert support["by_severity"]["Standard"] == {"tickets": 1, "met": 0, "missed": 1,
                                                  "open": 0}
    # tickets opened in another month are not this month's
    assert _contract(engine, "2026-12", "cumulocity")["support"]["tickets"] == []
    # the status page lists them with their verdicts, by severity
    page = render_status(engine.ledger("2026-11"), {})
    support_html = page[page.index("<h2>Support</h2>"):page.index("<h2>Contracts</h2>")]
    assert "T-1" in support_html and "2026-11-23T08:50:00Z" in support_html
    assert ">met<" in support_html and ">missed<" in support_html

    text = generate_latest(build_registry(engine)).decode()
    assert ('slastream_support_missed_tickets{contract="cumulocity",period="month",'
            'severity="Standard"} 1.0') in text
    assert 'slastream_support_open_tickets{contract="cumulocity",severity="Critical"}' in text
    assert "slastream_support_near_deadline_tickets{" in text
    assert "T-1" not in text and "T-2" not in text


def test_evrythng_severity_3_on_a_uk_bank_holiday(tmp_path: Path) -> None:
    """EVRYTHNG Severity 3 opened on the Summer bank holiday, Monday 2026-08-31 11:00 BST:
    2 business days of 09:00-17:00 UK time from Tuesday → Wednesday 2 Sep 17:00 BST (16:00Z);
    the call-back at 16:30 BST meets it. August's ledger judges it as of its end: not yet
    due there (met null); September's does not list it (opened in August)."""
    cap = Capture()
    _ticket(cap, "E-7", "opened", at(LONDON, 2026, 8, 31, 11, 0), "evrythng", "Severity 3")
    _ticket(cap, "E-7", "response", at(LONDON, 2026, 9, 2, 16, 30), "evrythng")
    engine = replay(load_settings(CONTRACTS / "evrythng.yaml"),
                    str(cap.write(tmp_path / "tickets.jsonl")))
    [ticket] = _contract(engine, "2026-08", "evrythng")["support"]["tickets"]
    assert (ticket["region"], ticket["clock"], ticket["reaction_deadline"], ticket["met"]) == (
        "UK", "business", "2026-09-02T16:00:00Z", None)
    assert _contract(engine, "2026-09", "evrythng")["support"]["tickets"] == []


USAGE_CONFIG: dict[str, Any] = {
    "timezone": "UTC",
    "lateness_s": 60,
    "slos": [{"name": "api", "sli": "probe", "component": "api", "objective": 0.99,
              "downtime": {"bad_below": 1.0, "min_duration_s": 60}}],
    "contracts": [{"name": "thng", "slos": ["api"],
                   "usage": {"component": "api",
                             "bands": {"A": {"clients": ["a-*"]},
                                       "B": {"clients": ["b-*"]}}}}],
}


def _requests(cap: Capture, client: str, start: datetime, step: timedelta, n: int) -> None:
    for i in range(0, n, 100):  # arrays of 100, as an access-log shipper sends them
        when = start + i * step
        cap.msg(when, "slastream/request/api", [
            {"time": ts(start + j * step), "duration_ms": 20.0, "status": 200,
             "client": client} for j in range(i, min(n, i + 100))])


def test_usage_section_from_request_logs(tmp_path: Path) -> None:
    """October 2026, UTC days. Device a-1 sends 2 requests a second for 12 minutes from
    2026-10-05 10:00 (1,440 requests, 0.5 s apart): more than one a second for longer than
    10 minutes, one intensive episode. Device a-2 sends 60 requests over the day. Band A
    on 5 October: 2 operational ADIs, 1,500 requests / (2 × 1,440 min) ≈ 0.5208 per ADI per
    minute, over its 0.5 allowance; a-1 alone (1 per minute) is over it, a-2 is not.
    Band B has no requests. On 6 October a-2 sends one request (1 / 1,440 per minute, not
    over); the end of the input closes that day, so both days are complete, one over."""
    cap = Capture()
    t0 = utc(2026, 10, 5, 10)
    _requests(cap, "a-1", t0, timedelta(milliseconds=500), 1440)
    _requests(cap, "a-2", utc(2026, 10, 5, 0, 10), timedelta(minutes=20), 60)
    _requests(cap, "a-2", utc(2026, 10, 6, 1), timedelta(minutes=1), 1)
    config = tmp_path / "usage.yaml"
    config.write_text(yaml.safe_dump(USAGE_CONFIG, sort_keys=False))
    engine = replay(load_settings(config), str(cap.write(tmp_path / "requests.jsonl")))
    usage = _contract(engine, "2026-10", "thng")["usage"]
    a, b = usage["bands"]
    assert (a["band"], a["adis"], a["over_allowance"], a["days"], a["days_over"]) == (
        "A", 2, 1, 2, 1)
    assert a["mean_per_minute"] == round(1500 / (2 * 1440), 6)
    assert (b["band"], b["adis"], b["requests"]) == ("B", 0, 0)
    [episode] = usage["intensive"]
    assert (episode["client"], episode["start"]) == ("a-1", "2026-10-05T10:00:00Z")
    assert episode["minutes"] > 10

    text = generate_latest(build_registry(engine)).decode()
    assert 'slastream_usage_intensive_episodes{band="A",contract="thng"} 1.0' in text
    assert 'slastream_usage_over_allowance_adis{band="A",contract="thng"} 1.0' in text
    assert 'slastream_usage_adis{band="B",contract="thng"} 0.0' in text
    assert "slastream_usage_mean_requests_per_minute{" in text
    assert "a-1" not in text and "a-2" not in text


def test_the_usage_counter_survives_a_checkpoint(tmp_path: Path) -> None:
    """An engine restored from its snapshot reports the same usage section."""
    config = tmp_path / "usage.yaml"
    config.write_text(yaml.safe_dump(USAGE_CONFIG, sort_keys=False))
    cap = Capture()
    _requests(cap, "a-1", utc(2026, 10, 5, 10), timedelta(milliseconds=500), 1440)
    settings = load_settings(config)
    engine = replay(settings, str(cap.write(tmp_path / "requests.jsonl")))
    restored = Engine.restore(settings, engine.snapshot())
    before = _contract(engine, "2026-10", "thng")["usage"]
    assert before["intensive"]
    assert _contract(restored, "2026-10", "thng")["usage"] == before
