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
