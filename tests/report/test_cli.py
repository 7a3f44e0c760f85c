"""``slastream report`` as a user runs it: the command, its formats and its one-line errors."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from slastream.model.ledger import ledger_json
from tests.report.seeds import Seed

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "slastream", *args], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                          check=False, timeout=120)


def test_csv_from_a_capture_matches_the_ledger(mclimate: Seed) -> None:
    done = _cli("report", "-c", str(ROOT / "examples/contracts/mclimate.yaml"), "--capture",
                str(mclimate.capture), "--month", mclimate.month, "--format", "csv")
    assert (done.returncode, done.stderr) == (0, "")
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    ledger = ledger_json(mclimate.ledger)
    assert sorted(r["slo"] for r in rows) == sorted(e["name"] for e in ledger["slos"])
    for row in rows:
        (entry,) = [e for e in ledger["slos"] if e["name"] == row["slo"]]
        assert float(row["downtime_minutes"]) == entry["downtime_minutes"]
    assert {float(r["credit"]) for r in rows} == {ledger["contracts"][0]["credit"]}


def test_html_to_a_file_and_errors_in_one_line(mclimate: Seed, tmp_path: Path) -> None:
    config = str(ROOT / "examples/contracts/mclimate.yaml")
    out = tmp_path / "report.html"
    done = _cli("report", "-c", config, "--capture", str(mclimate.capture), "--month",
                mclimate.month, "-o", str(out))
    assert (done.returncode, done.stderr) == (0, "")
    assert out.read_text().startswith("<!DOCTYPE html>")
    both = _cli("report", "-c", config, "--capture", str(mclimate.capture), "--worker",
                "http://127.0.0.1:9")
    assert both.returncode == 1 and len(both.stderr.splitlines()) == 1
    assert both.stderr.startswith("slastream report: ")
