"""Delivery SLI details that the acceptance captures do not isolate."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from slastream.config import load_settings
from slastream.engine import Engine
from slastream.model.events import BridgeOutage, UplinkDelivered, UplinkReceived
from slastream.model.ledger import ledger_json
from slastream.sources.decoder import group

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_790_000_000_000 // 60_000 * 60_000


def _engine() -> Engine:
    return Engine(load_settings(ROOT / "examples/contracts/loriot.yaml"))


def _delivery(engine: Engine) -> dict[str, int]:
    (entry,) = [e for e in ledger_json(engine.ledger(None))["slos"]
                if e["name"] == "lorawan-delivery"]
    return dict(entry["events"])


def test_bridge_outage_is_not_charged_to_the_network() -> None:
    """Uplinks whose delivery fell into our own disconnection are left out, not lost."""
    eng = _engine()
    ups = [UplinkReceived(T0 + i * 1000, 0x26000000 + i, 7, "gw", "eu868", False)
           for i in range(100)]
    # deliveries for the first 50 only; the bridge was disconnected from +60 s to +130 s
    dels = [UplinkDelivered(T0 + i * 1000 + 200, 0x26000000 + i, 7, "app", "d")
            for i in range(50)]
    eng.feed(group([*ups, *dels, BridgeOutage(T0 + 60_000, T0 + 130_000, "b1")]))
    eng.flush()
    # uplinks at 31..99 s have 30-s deadlines reaching into the outage: left out
    assert _delivery(eng) == {"good": 31, "total": 31}
    assert dict(eng.inputs().lorawan or ())["bridge_outage_uplinks"] == 69


def test_late_delivery_after_finalisation_is_a_correction() -> None:
    eng = _engine()
    eng.feed(group([UplinkReceived(T0, 0x26000001, 1, "gw", "eu868", False)]))
    eng.feed(group([UplinkReceived(T0 + 300_000, 0x26000002, 1, "gw", "eu868", False)]))
    eng.advance()  # watermark = T0 + 300 s − 120 s: the first uplink is final, undelivered
    assert _delivery(eng) == {"good": 0, "total": 1}
    # its delivery (within the 30 s deadline) arrives late: applied as a correction
    eng.feed(group([UplinkDelivered(T0 + 5_000, 0x26000001, 1, "app", "d")]))
    eng.feed(group([UplinkDelivered(T0 + 300_500, 0x26000002, 1, "app", "d")]))
    eng.flush()
    assert _delivery(eng) == {"good": 2, "total": 2}
    assert eng.late_events == 1


def test_state_per_tracked_uplink_is_small() -> None:
    """BRIEF §5: at most 150 bytes per tracked uplink in dedup/match state."""
    eng = _engine()
    sli = eng.slis[0]
    n = 200_000
    events = [UplinkReceived(T0 + i, 0x26000000 + i, i & 0xFFFF, "gw", "eu868", False)
              for i in range(n)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    sli.add(events)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert sli.tracked == n  # type: ignore[attr-defined]
    assert (after - before) / n <= 150


def test_breach_is_open_while_the_outage_lasts_and_closes_on_recovery() -> None:
    from slastream.config import load_settings as load
    from slastream.model.events import ProbeResult

    eng = Engine(load(ROOT / "examples/contracts/mclimate.yaml"))
    key = ("api-availability", "api")

    def minute(m: int, ok: bool) -> None:
        eng.feed(group([ProbeResult(T0 + m * 60_000 + s, "api", ok, 200, 50.0)
                        for s in (0, 30_000)]))
        eng.advance(T0 + (m + 1) * 60_000)

    for m in range(10):
        minute(m, True)
    for m in range(10, 14):
        minute(m, False)
    assert eng.breaches()[key] is False  # 4 bad minutes: under the 5-minute rule
    minute(14, False)
    assert eng.breaches()[key] is True
    minute(15, False)
    assert eng.breaches()[key] is True
    minute(16, True)
    assert eng.breaches()[key] is False
