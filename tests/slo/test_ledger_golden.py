"""The ledger JSON, byte for byte: the interface's field names, order and values.

Each case runs a hand-built capture (or a live engine / view) and compares the JSON with a
file under ``tests/golden/ledger/``. Together the cases cover every field: episodes excused
and not (open and closed), exclusions with each verdict, both kinds of credit and none,
response-time blocks, rejected and ignored inputs, several scopes of one SLO, the engine's
and the live view's ``inputs``. ``SLASTREAM_WRITE_GOLDEN=1`` rewrites the files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
import yaml

from slastream.model.ledger import ledger_json
from tests.acceptance import scenarios
from tests.capture_builder import Capture, utc

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "examples" / "contracts"
GOLDEN = ROOT / "tests" / "golden" / "ledger"
M = timedelta(minutes=1)
S = timedelta(seconds=1)

REGIONS_CONFIG = {
    "timezone": "UTC",
    "lateness_s": 60,
    "lorawan": {"devaddr_prefixes": ["26000000/7"]},
    "slos": [
        {"name": "delivery", "sli": "delivery", "objective": 0.99, "deadline_s": 10,
         "scope_by": "region",
         "downtime": {"bad_below": 0.75, "window_s": 120, "min_events": 5,
                      "min_duration_s": 180}},
        {"name": "api", "sli": "probe", "component": "api", "objective": 0.99,
         "downtime": {"bad_below": 1.0, "min_duration_s": 60, "no_data": "downtime"}},
        {"name": "latency", "sli": "response_time", "component": "api", "target_ms": 300,
         "block_requests": 50, "downtime": {"bad_above_ms": 400, "min_events": 5}},
    ],
    "exclusion_policy": {
        "maintenance": {"notice_s": 3600, "cap_minutes": 10},
        "third_party": {"evidence_required": True},
        "emergency": {},
    },
    "contracts": [
        {"name": "net", "slos": ["delivery"], "objective": 0.99,
         "credit": {"kind": "tiers", "basis": "total_downtime",
                    "tiers": [{"over_minutes": 5, "credit": 0.1},
                              {"over_minutes": 30, "credit": 0.2}]}},
        {"name": "service", "slos": ["api", "latency"], "combine": "mean"},
    ],
}


def regions_capture(tmp: Path) -> Path:
    """November 2026, 90 minutes from 02:00: two regions of ten devices each.

    * us915 loses every delivery in minutes 30-49 (downtime there, not in eu868);
    * the api probe fails in minutes 10-29 and 60-64 and is silent in 70-74 (no data
      counts as downtime here); maintenance over 10-24 (an hour's notice, 10-minute cap),
      a third-party outage over 25-29 without evidence, a force-majeure not in the policy
      over 60-64, an emergency over 80-84 on every scope while nothing is down;
    * requests of 200 ms, 500 ms in minutes 40-49; two lines that are not messages.
    """
    cap = Capture()
    t0 = utc(2026, 11, 2, 2)
    for m in range(90):
        for i in range(20):
            region, gw = ("eu868", "gw-e") if i < 10 else ("us915", "gw-u")
            devaddr = 0x26000200 + i
            t = t0 + m * M + i * S
            cap.gw_up(t, gw, devaddr, m, region=region)
            if not (i >= 10 and 30 <= m < 50):
                cap.app_up(t + 300 * timedelta(milliseconds=1), devaddr, m,
                           dev_eui=f"{devaddr:016x}")
        if not 70 <= m < 75:
            for s in (0, 30):
                cap.probe(t0 + m * M + s * S, "api", ok=not (10 <= m < 30 or 60 <= m < 65))
        cap.requests(t0 + m * M + 5 * S, "api", [500.0 if 40 <= m < 50 else 200.0] * 10)
    cap.exclusion(t0, "mnt-1", "api", t0 + 10 * M, t0 + 25 * M, announced=t0 - 2 * M * 60)
    cap.exclusion(t0, "hosting", "api", t0 + 25 * M, t0 + 30 * M, announced=None,
                  kind="third_party")
    cap.exclusion(t0, "storm", "*", t0 + 60 * M, t0 + 65 * M, announced=None,
                  kind="force_majeure")
    cap.exclusion(t0 + 86 * M, "emg", "*", t0 + 80 * M, t0 + 85 * M, announced=None,
                  kind="emergency", evidence="ticket 42")
    cap.raw(t0 + 2 * M, b"{broken")
    cap.msg(t0 + 3 * M, "nobody/listens/here", {"x": 1})
    return cap.write(tmp / "regions.jsonl")


def _replay(config: Path, capture: Path, month: str | None) -> bytes:
    args = [sys.executable, "-m", "slastream", "replay", "-c", str(config), str(capture)]
    if month:
        args += ["--month", month]
    proc = subprocess.run(args, capture_output=True, check=False, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def _seed(name: str, month: str | None) -> Callable[[Path], bytes]:
    def run(tmp: Path) -> bytes:
        capture, _ = getattr(scenarios, name)(tmp)
        return _replay(CONTRACTS / f"{name}.yaml", capture, month)
    return run


def _regions(tmp: Path) -> bytes:
    config = tmp / "regions.yaml"
    config.write_text(yaml.safe_dump(REGIONS_CONFIG, sort_keys=False))
    return _replay(config, regions_capture(tmp), None)


def _dump(ledger: object) -> bytes:
    return orjson.dumps(ledger, option=orjson.OPT_INDENT_2) + b"\n"


def _live_engine(tmp: Path) -> bytes:
    """An engine that has not seen the end of its input: open episodes, ``as_of``."""
    from slastream.engine import Engine
    from slastream.sources.decoder import message_batches
    from tests.stream.helpers import messages, settings

    engine = Engine(settings())
    msgs = messages(duration_s=200)
    for i in range(0, len(msgs), 500):
        for batch in message_batches(msgs[i:i + 500]):
            engine.feed(batch)
            engine.advance()
        engine.advance()
    return _dump(ledger_json(engine.ledger()))


def _live_view(tmp: Path) -> bytes:
    """The merged view of a worker's partitions, not flushed: the view's ``inputs``."""
    from slastream.model.events import Exclusion
    from slastream.stream.partition import PartitionState, Timing, slos_for_stream
    from slastream.stream.view import LiveView
    from tests.stream.helpers import APP, START_MS, messages, partition_records, settings

    timing = Timing(idle_s=1.0, checkpoint_interval_s=5.0, marker_timeout_s=5.0)
    view = LiveView(settings(), lambda: {("chirpstack", "ok"): 7, ("tts", "rejected"): 2})
    for (stream, partition), values in sorted(partition_records(messages(200)).items()):
        if not slos_for_stream(settings(), stream):
            continue
        state = PartitionState.fresh(settings(), stream, partition, APP, timing, 0.0)
        for offset, value in enumerate(values):
            batch = state.apply(offset, b"k", value, 0.0)
            if batch is not None:
                view.apply(batch)
    view.add_control([Exclusion("m1", "api", START_MS + 90_000, START_MS + 150_000,
                                START_MS - 10**9, "maintenance", "mail")])
    return _dump(ledger_json(view.ledger()))


CASES: dict[str, Callable[[Path], bytes]] = {
    "mclimate": _seed("mclimate", "2026-09"),
    "loriot": _seed("loriot", "2026-10"),
    "evrythng": _seed("evrythng", "2026-09"),
    "cumulocity": _seed("cumulocity", None),
    "regions": _regions,
    "live_engine": _live_engine,
    "live_view": _live_view,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_ledger_json_is_unchanged(name: str, tmp_path: Path) -> None:
    got = CASES[name](tmp_path)
    path = GOLDEN / f"{name}.json"
    if os.environ.get("SLASTREAM_WRITE_GOLDEN"):
        path.write_bytes(got)
    assert got == path.read_bytes()
