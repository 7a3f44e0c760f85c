"""Scopes and counters an SLI keeps stay bounded whatever ids arrive
(docs/interfaces.md#bounds): region scopes by the config's regions, RX2 failure statuses
by a count."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from slastream.config import load_settings, parse_settings
from slastream.engine import Engine
from slastream.errors import ConfigError
from slastream.model.events import DownlinkOutcome, Event, UplinkDelivered, UplinkReceived
from slastream.model.spec import Settings
from slastream.sli import rx2
from slastream.sources.decoder import group

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_790_812_800_000


def _settings(regions: tuple[str, ...]) -> Settings:
    base = load_settings(ROOT / "tests/export/fixture.yaml")
    return replace(base, lorawan=replace(base.lorawan, regions=regions))


def _scopes(settings: Settings, regions: list[str]) -> set[str]:
    events: list[Event] = []
    for i, region in enumerate(regions):
        events += [UplinkReceived(T0 + i, 0x26000000 + i, 1, "gw", region, False, 1),
                   UplinkDelivered(T0 + i + 100, 0x26000000 + i, 1, "app", "dev")]
    engine = Engine(settings)
    engine.feed(group(events))
    engine.flush()
    return set(engine.store.scopes("delivery-region"))


def test_regions_not_declared_share_the_scope_other() -> None:
    assert _scopes(_settings(("eu868",)), ["eu868", "zz1", "zz2", "eu868"]) == {
        "eu868", "other"}


def test_without_declared_regions_the_scopes_stop_at_255() -> None:
    names = [f"r{i}" for i in range(400)]
    scopes = _scopes(_settings(()), names)
    assert len(scopes) == 255 and "other" in scopes and {"r0", "r253"} <= scopes


def test_rx2_failure_statuses_beyond_the_bound_count_as_other() -> None:
    base = load_settings(ROOT / "examples/contracts/loriot.yaml")
    slo = replace(base.slo("rx2-reach"), source="integration")
    sli = rx2.RX2SLI(slo, base)
    sli.add([DownlinkOutcome(T0 + i, f"dev{i}", False, f"ODD_{i}", "", -1)
             for i in range(100)] + [DownlinkOutcome(T0 + 200, "d", False, "TOO_LATE", "", -1)])
    assert len(sli.reasons) == rx2.MAX_REASONS + 2
    assert sli.reasons[rx2.OTHER_REASON] == 100 - rx2.MAX_REASONS
    assert sli.reasons["TOO_LATE"] == 1  # a known status keeps its name


def test_lorawan_regions_is_a_checked_config_key() -> None:
    base = {"slos": [{"name": "d", "sli": "delivery", "objective": 0.99,
                      "scope_by": "region"}]}
    settings = parse_settings({**base, "lorawan": {"regions": ["eu868", "us915"]}})
    assert settings.lorawan.regions == ("eu868", "us915")
    assert settings.lorawan.region_scope("as923") == "other"
    for bad in (["other"], ["eu868", "eu868"], "eu868", [""]):
        with pytest.raises(ConfigError, match=r"lorawan\.regions: must be a list"):
            parse_settings({**base, "lorawan": {"regions": bad}})
