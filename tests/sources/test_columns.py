"""Events as columns and the parallel replay end in exactly the state of the per-event path.

Three paths over the same capture: the reference (``capture_batches(fast=False)``: every
line through ``parse_line`` and the router, events as tuples, ``Engine.feed``), one pass
of column batches (``fastpath.column_batches`` into ``Engine.feed_columns``), and the
replay split into byte ranges decoded by worker processes (``replay.replay``). The whole
engine state (its checkpoint document) and the ledger must be the same.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slastream import replay
from slastream.checkpoint import document
from slastream.config import load_settings
from slastream.engine import Engine
from slastream.model.events import UplinkDelivered, UplinkReceived
from slastream.model.ledger import ledger_json
from slastream.simulate import Scenario, generate
from slastream.sources import columns, fastpath, router
from slastream.sources.capture import format_line
from slastream.sources.decoder import capture_batches

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "examples/contracts"
DAMAGED = [b"garbage\n", b'{"received_at":"2026-10-01T00:00:01.250Z","topic":"x"}\n',
           b"\n", b'{"received_at":"2026-10-01T00:00:01.250Z","topic":"eu868/gateway/g/'
           b'event/up","payload":{"phyPayload":"QN3w","rxInfo":{"x":1e400}}}\n']


def _plain(value: Any) -> Any:
    """A checkpoint document with its arrays as (dtype, values), comparable with ==."""
    if isinstance(value, np.ndarray):
        return (str(value.dtype), value.tolist())
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _state(engine: Engine) -> Any:
    """The engine's whole checkpoint; the input counters in any order (the fast paths add
    up their decoded messages per batch, not per line)."""
    doc = _plain(document.decode(engine.snapshot()))
    doc["engine"]["ingest"].sort()
    return doc


def _summary(engine: Engine) -> dict[str, Any]:
    return {"state": _state(engine), "ledger": ledger_json(engine.ledger()),
            "ingest": dict(engine.ingest), "rejections": dict(engine.rejections),
            "ignored": dict(engine.ignored), "bad_lines": engine.bad_lines,
            "first": engine.first_time_ms, "store": engine.store.as_dict()}


def _reference(config: Path, lines: list[bytes], chunk: int) -> dict[str, Any]:
    engine = Engine(load_settings(config))
    for batch in capture_batches(lines, fast=False, chunk=chunk,
                                 rt=router.for_settings(engine.settings)):
        engine.feed(batch)
        engine.advance()
    engine.flush()
    return _summary(engine)


def _columns(config: Path, lines: list[bytes], chunk: int) -> dict[str, Any]:
    engine = Engine(load_settings(config))
    for batch in fastpath.column_batches(lines, chunk, router.for_settings(engine.settings)):
        engine.feed_columns(batch)
        engine.advance()
    engine.flush()
    return _summary(engine)


def _parallel(config: Path, capture: Path, chunk: int, monkeypatch: pytest.MonkeyPatch,
              range_bytes: int) -> dict[str, Any]:
    monkeypatch.setattr(replay, "CHUNK", chunk)
    monkeypatch.setattr(replay, "RANGE_BYTES", range_bytes)
    return _summary(replay.replay(load_settings(config), str(capture), workers=2))


def _with_damage(lines: list[bytes]) -> list[bytes]:
    out = list(lines)
    for i, bad in enumerate(DAMAGED):
        out.insert((i + 1) * len(out) // (len(DAMAGED) + 1), bad)
    return out


@pytest.mark.parametrize(("scenario", "config"), [
    ("mclimate", "mclimate.yaml"), ("loriot", "loriot.yaml"), ("evrythng", "evrythng.yaml"),
    ("cumulocity", "cumulocity.yaml")])
def test_acceptance_captures_end_in_the_same_state_on_every_path(
        scenario: str, config: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.acceptance import scenarios

    capture, _ = getattr(scenarios, scenario)(tmp_path)
    lines = _with_damage(capture.read_bytes().splitlines(keepends=True))
    capture.write_bytes(b"".join(lines))
    for chunk in (8192, 97):
        want = _reference(CONTRACTS / config, lines, chunk)
        assert _columns(CONTRACTS / config, lines, chunk) == want
        range_bytes = max(capture.stat().st_size // 7, 1)
        assert _parallel(CONTRACTS / config, capture, chunk, monkeypatch, range_bytes) == want


def _simulated(app_server: str = "chirpstack") -> list[bytes]:
    scenario = Scenario(devices=60, gateways=6, uplink_interval_s=20.0, app_server=app_server)
    return [format_line(m) + b"\n" for m in generate(scenario, 1_790_000_000_000, 900.0, 5)]


def test_simulated_network_in_any_number_of_ranges(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Outages, foreign frames, retransmissions, downlinks, probes, request logs, damage."""
    lines = _with_damage(_simulated())
    capture = tmp_path / "capture.jsonl"
    capture.write_bytes(b"".join(lines))
    config = CONTRACTS / "loriot.yaml"
    want = _reference(config, lines, 500)
    assert want["ingest"][("chirpstack_gateway", "ok")] > 500
    assert _columns(config, lines, 500) == want
    for parts in (2, 5, 31):
        range_bytes = capture.stat().st_size // parts + 1
        assert _parallel(config, capture, 500, monkeypatch, range_bytes) == want


def test_the_things_stack_capture_is_replayed_in_one_pass(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its deliveries may take their DevAddr from the device's session, learned from
    earlier lines: ranges decoded apart could not see it."""
    lines = _simulated("tts")
    capture = tmp_path / "capture.jsonl"
    capture.write_bytes(b"".join(lines))
    config = CONTRACTS / "loriot.yaml"
    passes: list[int] = []
    one_pass = replay._one_pass
    monkeypatch.setattr(replay, "_one_pass",
                        lambda *a: passes.append(1) or one_pass(*a))  # type: ignore[func-returns-value]
    got = _parallel(config, capture, 500, monkeypatch, capture.stat().st_size // 4 + 1)
    assert passes == [1]
    assert got == _reference(config, lines, 500)
    assert got["ingest"][("tts", "ok")] > 50


_decode_range = replay.decode_range


def _dies_after_the_first_range(job: tuple[str, int, int],
                                settings: Any = None) -> columns.ColumnBatch:
    """A decoding process killed (out of memory, say) while it holds a range."""
    if job[1] > 0:
        os._exit(9)
    return _decode_range(job, settings)


def test_a_decoding_process_that_dies_costs_a_pass_not_the_result(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
) -> None:
    lines = _with_damage(_simulated())
    capture = tmp_path / "capture.jsonl"
    capture.write_bytes(b"".join(lines))
    config = CONTRACTS / "loriot.yaml"
    monkeypatch.setattr(replay, "decode_range", _dies_after_the_first_range)
    got = _parallel(config, capture, 500, monkeypatch, capture.stat().st_size // 4 + 1)
    assert got == _reference(config, lines, 500)
    assert "a decoding process ended abruptly" in capfd.readouterr().err


def test_a_process_with_threads_spawns_its_workers(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _simulated()[:2000]
    capture = tmp_path / "capture.jsonl"
    capture.write_bytes(b"".join(lines))
    config = CONTRACTS / "loriot.yaml"
    monkeypatch.setattr(replay.threading, "active_count", lambda: 1)
    assert replay._processes().get_start_method() == "fork"
    monkeypatch.setattr(replay.threading, "active_count", lambda: 2)
    assert replay._processes().get_start_method() == "spawn"
    got = _parallel(config, capture, 500, monkeypatch, capture.stat().st_size // 3 + 1)
    assert got == _reference(config, lines, 500)


def test_a_pipe_is_read_in_one_pass(tmp_path: Path) -> None:
    """A pipe has no size to split: however many workers are asked for, it is read once."""
    lines = _simulated()[:300]
    fifo = tmp_path / "capture.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        with fifo.open("wb") as fh:
            fh.write(b"".join(lines))

    writer = threading.Thread(target=write)
    writer.start()
    got = _summary(replay.replay(load_settings(CONTRACTS / "loriot.yaml"), str(fifo), workers=2))
    writer.join()
    assert got == _reference(CONTRACTS / "loriot.yaml", lines, replay.CHUNK)
    assert got["ingest"][("chirpstack_gateway", "ok")] > 0


def test_byte_ranges_start_at_line_starts(tmp_path: Path) -> None:
    capture = tmp_path / "c.jsonl"
    capture.write_bytes(b"a\nbb\n\nccc\nd")
    size = capture.stat().st_size
    for parts in range(1, 14):
        ranges = replay.byte_ranges(str(capture), size, parts)
        assert ranges[0][0] == 0 and ranges[-1][1] == size
        assert all(a < b for a, b in ranges)
        assert all(end == start for (_, end), (start, _) in itertools.pairwise(ranges))
        data = capture.read_bytes()
        assert all(start == 0 or data[start - 1:start] == b"\n" for start, _ in ranges)


# ------------------------------------------------------------- rechunk, any split

_LINES = _with_damage(_simulated())[:800]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(min_value=0, max_value=len(_LINES)), max_size=8),
       chunk=st.integers(min_value=1, max_value=700))
def test_rechunk_cuts_where_one_pass_cuts(cuts: list[int], chunk: int) -> None:
    """Byte ranges decoded apart and cut again give one pass's batches: the same events in
    the same batches and type order, the same counters in total."""
    rt = router.Router()
    whole = list(fastpath.column_batches(_LINES, chunk, rt))
    bounds = [0, *sorted(cuts), len(_LINES)]
    parts = [next(iter(fastpath.column_batches(_LINES[a:b], 1 << 60, router.Router())))
             for a, b in itertools.pairwise(bounds)]
    again = list(rechunk_all(parts, chunk))
    assert [b.messages for b in again] == [b.messages for b in whole]
    assert [columns.as_events(b) for b in again] == [columns.as_events(b) for b in whole]
    assert [list(columns.as_events(b)) for b in again] == [b.kinds for b in whole]
    # each row's and event's message ordinal, from the batch's start, as one pass numbers them
    assert [b.others_at for b in again] == [b.others_at for b in whole]
    assert [_ordinals(b) for b in again] == [_ordinals(b) for b in whole]
    for field in ("ingest", "rejections", "ignored"):
        assert sum((getattr(b, field) for b in again), Counter()) == sum(
            (getattr(b, field) for b in whole), Counter())
    assert sum(b.bad_lines for b in again) == sum(b.bad_lines for b in whole)


def _ordinals(batch: columns.ColumnBatch) -> dict[type, list[int]]:
    return {cls: rows[:, columns._MESSAGE_COLUMN[cls]].tolist()
            for cls, rows in batch.columns.items() if len(rows)}


def rechunk_all(parts: list[columns.ColumnBatch], chunk: int) -> list[columns.ColumnBatch]:
    """``rechunk`` of parts decoded apart, their names first mapped into one table."""
    names = columns.Names()
    shared = [columns.renamed(part, np.array(names.of_all(part.names), dtype=np.int64), names)
              for part in parts]
    return list(columns.rechunk(iter(shared), chunk))


def test_rows_materialise_to_the_decoders_tuples() -> None:
    (batch,) = fastpath.column_batches(_LINES, 1 << 60, router.Router())
    events = columns.as_events(batch)
    assert events[UplinkReceived] and events[UplinkDelivered]
    assert all(type(e) is UplinkReceived for e in events[UplinkReceived])
    assert all(type(e.confirmed) is bool for e in events[UplinkReceived])


def test_the_command_prints_the_same_ledger_with_any_number_of_jobs(tmp_path: Path) -> None:
    from tests.acceptance import scenarios

    capture, _ = scenarios.loriot(tmp_path)
    out = [subprocess.run([sys.executable, "-m", "slastream", "replay", "-c",
                           str(CONTRACTS / "loriot.yaml"), str(capture), "--jobs", jobs],
                          capture_output=True, check=True, cwd=ROOT).stdout
           for jobs in ("1", "2")]
    assert out[0] == out[1] and b'"good"' in out[0]
