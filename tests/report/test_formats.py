"""The report's CSV, JSON and HTML against the ledger (docs/report.md)."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from slastream.errors import SlastreamError
from slastream.model.ledger import ExclusionEntry, ledger_json
from slastream.report.build import OUTSIDE, build_report
from slastream.report.command import main, render
from slastream.report.content import Report
from slastream.report.html import render_html
from slastream.report.source import from_capture
from slastream.report.tables import CSV_COLUMNS
from slastream.report.text import pct4
from tests.report.seeds import Seed


def report_of(seed: Seed) -> Report:
    return from_capture(seed.settings, str(seed.capture), seed.month)


def test_json_is_the_ledger_of_the_contract(seed: Seed) -> None:
    doc = json.loads(render(report_of(seed), "json"))
    # every SLO of a seed config belongs to its contract and every exclusion to its SLOs
    assert doc == json.loads(json.dumps(ledger_json(seed.ledger)))


def test_json_leaves_out_exclusions_of_no_reported_slo(mclimate: Seed) -> None:
    ledger = mclimate.ledger
    stray = ExclusionEntry("elsewhere", "maintenance", "billing", ledger.period.start_ms,
                           ledger.period.start_ms + 60_000, True, "accepted")
    ledger = dataclasses.replace(ledger, exclusions=(*ledger.exclusions, stray))
    report = build_report(mclimate.settings, ledger, ledger_json(ledger), None, "test")
    doc = json.loads(render(report, "json"))
    assert [x["id"] for x in doc["exclusions"]] == ["mnt-api", "mnt-home"]


def test_csv_has_the_documented_columns_and_one_row_per_slo(seed: Seed) -> None:
    text = render(report_of(seed), "csv").decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0].split(",") == list(CSV_COLUMNS)
    ledger = seed.ledger
    (contract,) = ledger.contracts
    # the contract's measurands first, then objectives outside any contract (contract "")
    mine = [e for e in ledger.slos if e.name in contract.slos]
    others = [e for e in ledger.slos if e.name not in contract.slos]
    assert [(r["slo"], r["scope"], r["contract"]) for r in rows] == (
        [(e.name, e.scope, contract.name) for e in mine] + [(e.name, e.scope, "") for e in others])
    for r, e in zip(rows, mine, strict=False):
        assert r["month"] == seed.month and r["timezone"] == ledger.period.timezone
        assert float(r["availability"]) == e.availability
        assert float(r["downtime_minutes"]) == e.downtime_minutes
        assert float(r["excused_minutes"]) == e.excused_minutes
        assert int(r["no_data_minutes"]) == e.no_data_minutes
        assert int(r["episodes"]) == len(e.episodes)
        assert r["met"] == {True: "true", False: "false", None: ""}[e.met]
        assert r["status"] == e.status
        assert r["objective"] == ("" if e.objective is None else str(e.objective))
        # no credit is computed from too little evidence: the cell stays empty
        assert r["credit"] == ("" if contract.credit is None else str(contract.credit)) or (
            float(r["credit"]) == contract.credit)
        assert r["credit_basis"] == contract.credit_basis
        assert float(r["contract_availability"]) == contract.availability


class _Refs(HTMLParser):
    """Every attribute that makes a browser load something, and every tag that could."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "srcset", "action", "poster", "data"):
                self.refs.append(value or "")


def test_html_is_self_contained(seed: Seed) -> None:
    page = render_html(report_of(seed))
    refs = _Refs()
    refs.feed(page)
    assert all(r.startswith("#") for r in refs.refs), refs.refs
    assert not refs.tags & {"script", "link", "img", "iframe", "object", "embed"}
    assert all(u.startswith("#") for u in re.findall(r"url\(([^)]*)\)", page))
    assert "@import" not in page and "http://" not in page and "https://" not in page


def test_html_states_every_figure_in_text(seed: Seed) -> None:
    page = render_html(report_of(seed))
    ledger = seed.ledger
    for e in ledger.slos:
        assert pct4(e.availability) in page
    (contract,) = ledger.contracts
    if contract.credit is None:  # too little evidence: the basis says why, no figure
        assert html.escape(contract.credit_basis) in page
    else:
        assert f"{contract.credit * 100:.2f} % of the monthly fee" in page
    assert page.count("<svg") == len(ledger.slos)
    assert page.count('role="img" aria-labelledby=') == len(ledger.slos)


def test_html_escapes_what_operators_wrote(mclimate: Seed) -> None:
    ledger = mclimate.ledger
    evil = ExclusionEntry('<img src="http://x/y.png">', "maintenance", "*",
                          ledger.period.start_ms, ledger.period.start_ms + 60_000, False,
                          "a & b")
    ledger = dataclasses.replace(ledger, exclusions=(evil,))
    page = render_html(build_report(mclimate.settings, ledger, ledger_json(ledger), None, "t"))
    assert "&lt;img src=&quot;http://x/y.png&quot;&gt;" in page and "a &amp; b" in page
    refs = _Refs()
    refs.feed(page)
    assert "img" not in refs.tags and refs.refs == [r for r in refs.refs if r.startswith("#")]


def test_slos_outside_any_contract_get_their_own_section(mclimate: Seed) -> None:
    ledger = dataclasses.replace(mclimate.ledger, contracts=())
    settings = dataclasses.replace(mclimate.settings, contracts=())
    report = build_report(settings, ledger, ledger_json(ledger), None, "t")
    assert [c.name for c in report.contracts] == [OUTSIDE]
    assert len(report.contracts[0].slos) == 3
    rows = list(csv.DictReader(io.StringIO(render(report, "csv").decode())))
    assert {r["contract"] for r in rows} == {""} and {r["credit"] for r in rows} == {""}
    assert "belong to no contract" in render_html(report)


def test_main_writes_the_file_or_stdout(mclimate: Seed, tmp_path: Path,
                                        capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    out = tmp_path / "r.csv"
    assert main(mclimate.settings, "2026-09", str(mclimate.capture), None, "csv",
                str(out)) == 0
    assert main(mclimate.settings, "2026-09", str(mclimate.capture), None, "csv", None) == 0
    assert capsysbinary.readouterr().out == out.read_bytes()
    # default month: the month of the capture's first message
    assert main(mclimate.settings, None, str(mclimate.capture), None, "json", None) == 0
    assert json.loads(capsysbinary.readouterr().out)["period"]["start"] == (
        "2026-09-01T00:00:00Z")


@pytest.mark.parametrize(("month", "capture", "worker", "fmt", "output", "message"), [
    ("2026-09", "CAP", "http://127.0.0.1:1", "html", None, "exactly one of --capture"),
    ("2026-09", None, None, "html", None, "exactly one of --capture"),
    ("2026-9x", "CAP", None, "html", None, "--month: month must be YYYY-MM"),
    ("2026-09", "CAP", None, "docx", None, "--format must be one of html, pdf, csv, json"),
    ("2026-09", "/nonexistent/capture.jsonl", None, "csv", None, "capture file not found"),
    ("2026-09", "CAP", None, "csv", "/nonexistent/dir/r.csv", "cannot write the report"),
    ("2026-09", None, "ftp://host/", "json", None, "--worker: expected an http(s) URL"),
])
def test_main_refuses_with_one_line(mclimate: Seed, month: str, capture: str | None,
                                    worker: str | None, fmt: str, output: str | None,
                                    message: str) -> None:
    if capture == "CAP":
        capture = str(mclimate.capture)
    with pytest.raises(SlastreamError, match=re.escape(message)) as info:
        main(mclimate.settings, month, capture, worker, fmt, output)
    assert "\n" not in str(info.value)
