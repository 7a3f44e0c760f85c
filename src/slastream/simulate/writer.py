"""The fast path to a capture file: capture lines written straight from the generator.

Skips building ``Message`` values and ``format_line``'s per-line ``strftime``: a LoRaWAN day
is several million lines. The lines are the same bytes ``format_line`` would produce
(docs/interfaces.md#capture-files: ``received_at``, ``topic``, ``payload``, in that order).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from slastream.errors import CaptureError
from slastream.simulate.generator import Simulation, relaxed_gc
from slastream.simulate.scenario import Scenario
from slastream.simulate.timefmt import iso_ms
from slastream.simulate.truth import GroundTruth

_CHUNK = 8192  # lines per write: large sequential writes, bounded memory


def capture_lines(sim: Simulation) -> Iterator[bytes]:
    """Capture lines (without newline) of a simulation, in received-time order."""
    dumps = orjson.dumps
    for ms, topic, payload in sim.messages():
        yield dumps({"received_at": iso_ms(ms), "topic": topic, "payload": payload})


def write_capture(path: str | Path, scenario: Scenario, start_ms: int, duration_s: float,
                  seed: int) -> GroundTruth:
    """Write a run of ``scenario`` as a capture file; return its ground truth.

    Raises ``CaptureError`` when the file cannot be written.
    """
    dumps = orjson.dumps
    try:
        with relaxed_gc(), open(path, "wb") as fh:
            sim = Simulation(scenario, start_ms, duration_s, seed)
            buf: list[bytes] = []
            for ms, topic, payload in sim.messages():
                buf.append(dumps({"received_at": iso_ms(ms), "topic": topic,
                                  "payload": payload}))
                if len(buf) >= _CHUNK:
                    buf.append(b"")
                    fh.write(b"\n".join(buf))
                    buf.clear()
            if buf:
                buf.append(b"")
                fh.write(b"\n".join(buf))
    except OSError as exc:
        raise CaptureError(f"cannot write {path}: {exc.strerror or exc}") from None
    return sim.truth
