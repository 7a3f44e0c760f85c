"""Whole replays: the fast and the plain capture paths give identical ledgers, engine state
and counters on every acceptance capture and on a simulated network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from slastream.config import load_settings
from slastream.engine import Engine
from slastream.simulate import Scenario, generate
from slastream.sources import decoder
from slastream.sources.capture import format_line
from slastream.sources.decoder import capture_batches

ROOT = Path(__file__).resolve().parents[2]


def _ledger(config: str, lines: list[bytes], fast: bool) -> dict[str, Any]:
    engine = Engine(load_settings(ROOT / "examples/contracts" / config))
    for batch in capture_batches(lines, fast=fast):
        engine.feed(batch)
        engine.advance()
    engine.flush()
    return {"ledger": engine.ledger(), "ingest": dict(engine.ingest),
            "rejections": dict(engine.rejections), "store": engine.store.as_dict(),
            "sli_events": dict(engine.sli_events), "late": engine.late_events}


@pytest.mark.parametrize(("scenario", "config"), [
    ("mclimate", "mclimate.yaml"), ("loriot", "loriot.yaml"), ("evrythng", "evrythng.yaml"),
    ("cumulocity", "cumulocity.yaml")])
def test_acceptance_captures_give_identical_ledgers(
        scenario: str, config: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.acceptance import scenarios

    capture, _ = getattr(scenarios, scenario)(tmp_path)
    lines = capture.read_bytes().splitlines(keepends=True)
    for chunk in (8192, 97):
        monkeypatch.setattr(decoder, "CHUNK", chunk)
        assert _ledger(config, lines, fast=True) == _ledger(config, lines, fast=False)


def test_simulated_network_gives_identical_ledgers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outages, foreign frames, retransmissions, downlinks, probes and request logs."""
    scenario = Scenario(devices=120, gateways=6, uplink_interval_s=20.0)
    lines = [format_line(m) for m in generate(scenario, 1_790_000_000_000, 1800.0, seed=5)]
    lines.insert(len(lines) // 2, b"garbage\n")
    monkeypatch.setattr(decoder, "CHUNK", 500)
    for config in ("loriot.yaml", "mclimate.yaml", "cumulocity.yaml"):
        fast = _ledger(config, lines, fast=True)
        assert fast == _ledger(config, lines, fast=False)
    assert fast["ingest"][("chirpstack_gateway", "ok")] > 1000
