"""The PDF, read back with pdftotext: each seed contract's availability, downtime, episodes
and credit are in it as the ledger has them (docs/report.md#pdf-renderer).

Needs Debian's ``chromium`` and ``poppler-utils`` (scripts/bootstrap installs both).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from slastream.model.ledger import Ledger, SLOEntry
from slastream.report.command import main
from slastream.report.text import local, minutes, pct2, pct4
from tests.report.seeds import Seed

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None or shutil.which("pdftotext") is None,
    reason="needs chromium and pdftotext (apt-get install chromium poppler-utils)")


def squeeze(text: str) -> str:
    """Without whitespace and hyphens: pdftotext joins a word broken at a hyphen across
    lines (``dashboard-`` / ``availability``), and table cells wrap where they like."""
    return re.sub(r"[\s\-]+", "", text)


@pytest.fixture(scope="session")
def text(seed: Seed, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The seed's report as PDF, read back and squeezed."""
    return squeeze(pdf_text(seed, tmp_path_factory.mktemp(f"pdf-{seed.name}")))


def pdf_text(seed: Seed, folder: Path) -> str:
    out = folder / f"{seed.name}.pdf"
    assert main(seed.settings, seed.month, str(seed.capture), None, "pdf", str(out)) == 0
    assert out.read_bytes().startswith(b"%PDF-")
    proc = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                          check=True)
    return proc.stdout


def slo_chunk(text: str, ledger: Ledger, e: SLOEntry) -> str:
    """The squeezed text of one SLO's detail: from its heading to the next heading."""
    heads = [squeeze(f"{s.name} ({s.scope}) Indicator") for s in ledger.slos]
    mine = squeeze(f"{e.name} ({e.scope}) Indicator")
    start = text.index(mine)
    ends = [text.find(h, start + 1) for h in heads if h != mine]
    end = min([i for i in ends if i > start] + [text.index(squeeze("Data coverage"), start)])
    return text[start:end]


def test_pdf_matches_the_ledger(seed: Seed, text: str) -> None:
    ledger = seed.ledger
    period = ledger.period
    (contract,) = ledger.contracts
    assert squeeze(f"Availability {pct4(contract.availability)}") in text
    assert squeeze(f"Credit: {pct2(contract.credit)} of the monthly fee.") in text
    assert squeeze(contract.credit_basis) in text
    for e in [e for e in ledger.slos if e.name in contract.slos]:
        chunk = slo_chunk(text, ledger, e)
        for label, value in [("Target", pct4(e.objective)), ("Achieved", pct4(e.availability)),
                             ("Downtime", minutes(e.downtime_minutes)),
                             ("Excused", minutes(e.excused_minutes))]:
            assert squeeze(f"{label} {value}") in chunk, (e.name, label, value)
        if not e.episodes:
            assert squeeze("No downtime episodes.") in chunk
        for ep in e.episodes:
            for part in (local(ep.start_ms, period), local(ep.end_ms, period),
                         minutes(ep.minutes), "excused" if ep.excused else "downtime",
                         ep.reason):
                assert squeeze(part) in chunk, (e.name, part)


def test_pdf_numbers_are_those_the_contract_implies(seed: Seed, text: str) -> None:
    """The seeds' own arithmetic (tests/acceptance/scenarios.py), not the code's."""
    exp = seed.expected
    if "credit" in exp:
        assert squeeze(f"Credit: {exp['credit'] * 100:.2f} % of the monthly fee") in text
    for name, down in exp.get("downtime", {}).items():
        e = next(s for s in seed.ledger.slos if s.name == name)
        assert squeeze(f"Downtime {minutes(down)}") in slo_chunk(text, seed.ledger, e)
