"""The seed contracts with the captures the acceptance tests build, replayed once per session."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slastream.config import load_settings
from slastream.engine import Engine
from slastream.model.ledger import Ledger
from slastream.model.spec import Settings
from slastream.replay import replay
from tests.acceptance import scenarios

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "examples" / "contracts"

Builder = Callable[[Path], tuple[Path, dict[str, Any]]]
SEEDS: dict[str, tuple[Builder, str]] = {
    "mclimate": (scenarios.mclimate, "2026-09"),
    "loriot": (scenarios.loriot, "2026-10"),
    "evrythng": (scenarios.evrythng, "2026-09"),
    "cumulocity": (scenarios.cumulocity, "2026-10"),
}


@dataclass(frozen=True)
class Seed:
    name: str
    settings: Settings
    capture: Path
    month: str
    expected: dict[str, Any]
    engine: Engine

    @property
    def ledger(self) -> Ledger:
        return self.engine.ledger(self.month)


def build(name: str, folder: Path) -> Seed:
    builder, month = SEEDS[name]
    capture, expected = builder(folder)
    settings = load_settings(str(CONTRACTS / f"{name}.yaml"))
    return Seed(name, settings, capture, month, expected, replay(settings, str(capture)))
