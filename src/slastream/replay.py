"""``slastream replay``: a capture through the same decoders and SLI/SLO code, offline."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import orjson

from slastream.engine import Engine
from slastream.errors import CaptureError, SlastreamError
from slastream.model.ledger import ledger_json
from slastream.model.spec import Settings
from slastream.model.time import Month
from slastream.sources import router
from slastream.sources.decoder import capture_batches


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a replay, then restore it.

    A replay allocates millions of event tuples and keeps large dicts of in-flight
    uplinks; the collector's periodic passes over them cost about a fifth of the replay's
    time and find nothing, because decoding and the SLIs create no reference cycles
    (reference counting frees everything). Measured with benchmarks/replay_paths.py.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def replay(settings: Settings, capture_path: str) -> Engine:
    """Run a whole capture through a fresh engine and flush it."""
    engine = Engine(settings)
    try:
        with collector_paused(), open(capture_path, "rb", buffering=1 << 20) as fh:
            for batch in capture_batches(fh, rt=router.for_settings(settings)):
                engine.feed(batch)
                engine.advance()
            engine.flush()
    except FileNotFoundError:
        raise CaptureError(f"{capture_path}: capture file not found") from None
    except IsADirectoryError:
        raise CaptureError(f"{capture_path}: is a directory, not a capture file") from None
    return engine


def main(settings: Settings, capture_path: str, month: str | None) -> int:
    if month is not None:
        try:
            Month.parse(month, settings.timezone)
        except ValueError as exc:
            raise SlastreamError(f"--month: {exc}") from None
    engine = replay(settings, capture_path)
    ledger = ledger_json(engine.ledger(month))
    sys.stdout.buffer.write(orjson.dumps(ledger, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()
    return 0
