"""Validation of a contract's ``usage`` mapping; every problem names its key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from slastream.config.usage import parse_usage
from slastream.model.usage import Intensive
from tests.usage.helpers import EVRYTHNG_USAGE, terms


def problems(raw: Any, base_dir: Path | None = None) -> list[str]:
    found: list[str] = []
    result = parse_usage(raw, "contracts[0].usage", lambda k, w: found.append(f"{k}: {w}"),
                         base_dir)
    assert (result is None) == bool(found)
    return found


def test_evrythng_bands_take_the_table_figures() -> None:
    t = terms()
    assert [(b.name, b.per_minute, b.limits.transfer_mb_per_1000) for b in t.bands] == [
        ("Trial", 0.1, 2.0), ("F", 0.3, 512.0), ("U", 0.3, 512.0), ("A", 0.5, 1024.0),
        ("B", 2.0, 4608.0)]
    assert t.component == "api" and t.intensive == Intensive(1.0, 10.0)
    assert t.intensive.gap_ms == 1000 and t.intensive.max_ms == 600_000


def test_order_form_figures_override_the_table() -> None:
    t = terms({"bands": {"F": {"per_minute": 0.4, "transfer_mb_per_1000": 600,
                               "clients": "f-*"},
                         "Custom": {"per_minute": 5, "clients": ["c-*"]}},
               "intensive": {"max_per_second": 2, "max_minutes": 5}, "top": 3})
    assert (t.bands[0].per_minute, t.bands[0].limits.transfer_mb_per_1000) == (0.4, 600.0)
    assert t.bands[1].limits.transfer_mb_per_1000 is None
    assert t.intensive.gap_ms == 500 and t.top == 3


def test_problems_are_reported_with_their_keys(tmp_path: Path) -> None:
    raw = {"bands": {"A": {"per_minute": 0, "clients": ["a-*"]}, "X": {"clients": ["x-*"]},
                     "B": {"clients": [3]}},
           "intensive": {"max_minutes": -1}, "mapping_file": "nope.csv", "colour": "red"}
    found = problems(raw, tmp_path)
    assert found == [
        "contracts[0].usage.colour: unknown key",
        "contracts[0].usage.bands.A.per_minute: must be a number above zero; got 0",
        "contracts[0].usage.bands.X.per_minute: is required for a band not in the EVRYTHNG "
        "table",
        "contracts[0].usage.bands.B.clients: must be a list of client id patterns such as "
        "'thng-a-*'",
        f"contracts[0].usage.mapping_file: file not found: {tmp_path / 'nope.csv'}",
        "contracts[0].usage.intensive.max_minutes: must be a number above zero; got -1",
    ]


def test_some_band_must_claim_clients() -> None:
    assert problems({"bands": {"A": {}}}) == [
        "contracts[0].usage.bands: no band has clients and there is no mapping_file: "
        "no request could be given a band"]
    assert problems({**EVRYTHNG_USAGE, "bands": {}})[0].startswith("contracts[0].usage.bands")
    assert problems("yes") == ["contracts[0].usage: must be a mapping with bands"]
