"""RX2 latency and outcome do not depend on how the input is batched or ordered."""

from __future__ import annotations

from pathlib import Path

from slastream.config import load_settings
from slastream.engine import Engine
from slastream.model.events import DownlinkAck, DownlinkCommand, Event, UplinkReceived
from slastream.model.ledger import ledger_json
from slastream.sources.decoder import group

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_790_000_000_000 // 60_000 * 60_000


def _run(batches: list[list[Event]]) -> tuple[dict[str, int], dict[tuple[str, str], tuple[
        list[float], list[int], float]]]:
    eng = Engine(load_settings(ROOT / "examples/contracts/loriot.yaml"))
    for batch in batches:
        eng.feed(group(batch))
        eng.advance()
    eng.flush()
    (entry,) = [e for e in ledger_json(eng.ledger(None))["slos"] if e["name"] == "rx2-reach"]
    return entry["events"], {k: v for k, v in eng.histograms().items() if k[0] == "rx2-reach"}


def test_latency_links_the_uplink_before_the_command_in_any_order() -> None:
    events: list[Event] = []
    for m in range(5):
        up = T0 + m * 60_000
        events += [UplinkReceived(up, 0x26000001, m, "gw", "eu868", False),
                   DownlinkCommand(up + 400, "gw", m, 0x26000001, (1000, 2000), False),
                   DownlinkAck(up + 450, "gw", m, ("OK", "IGNORED"))]
    in_order = _run([events])
    # every uplink arrives 70 s late (within the 120 s lateness): after its command, its ack
    # and the next minute's uplink-less command; in one batch and one event at a time
    late_ups = sorted(events, key=lambda e: e.time_ms + (70_000 if isinstance(
        e, UplinkReceived) else 0))
    assert late_ups != events
    assert _run([late_ups]) == in_order
    assert _run([[e] for e in late_ups]) == in_order
    assert _run([events[i:i + 2] for i in range(0, len(events), 2)]) == in_order
    (_bounds, cumulative, total_ms) = in_order[1][("rx2-reach", "network")]
    assert cumulative[-1] == 5
    assert in_order[0] == {"good": 5, "total": 5}
    assert total_ms == 5 * 400.0  # each command 400 ms after its own uplink


def test_outcomes_of_declared_class_b_c_devices_are_not_rx2_attempts() -> None:
    from dataclasses import replace

    from slastream.model.events import DownlinkOutcome
    from slastream.model.spec import LoRaWAN

    base = load_settings(ROOT / "examples/contracts/loriot.yaml")
    rx2 = replace(base.slo("rx2-reach"), source="integration")
    outcomes: list[Event] = [DownlinkOutcome(T0 + i * 1000, dev, ok, "OK" if ok else "TOO_LATE",
                                             "", -1)
                             for i, (dev, ok) in enumerate([("eui-70b3d57ed0051a2b", False),
                                                            ("lamp-1", True),
                                                            ("eui-a84041000000ffff", True)])]
    for patterns, want, left_out in (((), {"good": 2, "total": 3}, 0),
                                     (("eui-70b3*",), {"good": 2, "total": 2}, 1)):
        settings = replace(base, slos=(rx2,), contracts=(),
                           lorawan=LoRaWAN(class_b_c=patterns))
        eng = Engine(settings)
        eng.feed(group(outcomes))
        eng.flush()
        (entry,) = ledger_json(eng.ledger(None))["slos"]
        assert entry["events"] == want
        assert dict(eng.inputs().lorawan or ())["downlinks_not_rx2_attempts"] == left_out
