"""Fields the ledger has only for some contracts or months (docs/interfaces.md#ledger-json):
the report shows them when they are there, and the PDF renderer fails in one line."""

from __future__ import annotations

import copy
import csv
import io
from pathlib import Path
from typing import Any

import pytest

from slastream.errors import SlastreamError
from slastream.model.ledger import ledger_json
from slastream.report import pdf
from slastream.report.build import build_report
from slastream.report.command import render
from slastream.report.html import render_html
from tests.report.seeds import Seed

SUPPORT = {"tickets": [{"id": "T-17", "severity": "Crisis", "opened": "2026-09-03T10:00:00Z",
                        "clock": "24x7", "reaction_deadline": "2026-09-03T12:00:00Z",
                        "reacted": None, "met": False}],
           "by_severity": {"Crisis": {"tickets": 1, "met": 0, "missed": 1, "open": 0}}}
USAGE = {"bands": [{"band": "A", "adis": 120, "allowance_per_minute": 0.5,
                    "mean_per_minute": 0.41, "over_allowance": 3}],
         "intensive": [{"client": "c-9", "start": "2026-09-04T08:00:00Z",
                        "end": "2026-09-04T08:12:00Z", "minutes": 12.0}]}


def with_fields(seed: Seed) -> dict[str, Any]:
    doc: dict[str, Any] = copy.deepcopy(ledger_json(seed.ledger))
    doc["slos"][0].update(met=None, status="insufficient_data", coverage=0.25)
    doc["contracts"][0].update(claim_deadline="2026-11-30T23:59:59Z", coverage=0.5,
                               status="not_met", support=SUPPORT, usage=USAGE)
    return doc


def test_optional_fields_are_rendered_when_present(mclimate: Seed) -> None:
    doc = with_fields(mclimate)
    report = build_report(mclimate.settings, mclimate.ledger, doc, None, "test")
    page = render_html(report)
    for text in ("Claim deadline", "2026-11-30 23:59 (UTC)", "insufficient data",
                 "25.00 %", "Contract coverage: 50.00 %", "<h3>Support</h3>", "T-17",
                 "2026-09-03 12:00", "missed", "<h3>Usage</h3>", "c-9", "0.41"):
        assert text in page, text
    rows = list(csv.DictReader(io.StringIO(render(report, "csv").decode())))
    assert (rows[0]["met"], rows[0]["status"], rows[0]["coverage"]) == (
        "", "insufficient_data", "0.25")
    assert {r["claim_deadline"] for r in rows} == {"2026-11-30T23:59:59Z"}
    assert render(report, "json") != render(
        build_report(mclimate.settings, mclimate.ledger, ledger_json(mclimate.ledger), None,
                     "test"), "json")


def test_without_them_there_are_no_such_sections(mclimate: Seed) -> None:
    report = build_report(mclimate.settings, mclimate.ledger, ledger_json(mclimate.ledger),
                          None, "test")
    page = render_html(report)
    assert "<h3>Support</h3>" not in page and "<h3>Usage</h3>" not in page
    assert "Claim deadline" not in page


def test_no_browser_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    with pytest.raises(SlastreamError, match="needs headless Chromium: install"):
        pdf.render_pdf("<p>x</p>")


def test_a_browser_that_prints_nothing_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'something went wrong' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setattr(pdf, "find_browser", lambda: str(fake))
    with pytest.raises(SlastreamError, match="chromium printed no PDF: something went wrong"):
        pdf.render_pdf("<p>x</p>")
