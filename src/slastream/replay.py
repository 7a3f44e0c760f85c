"""``slastream replay``: a capture through the same decoders and SLI/SLO code, offline."""

from __future__ import annotations

import sys

import orjson

from slastream.config import Settings
from slastream.engine import Engine
from slastream.errors import CaptureError, SlastreamError
from slastream.model.time import Month


def replay(settings: Settings, capture_path: str) -> Engine:
    """Run a whole capture through a fresh engine and flush it."""
    engine = Engine(settings)
    try:
        with open(capture_path, "rb", buffering=1 << 20) as fh:
            engine.feed_capture(fh)
    except FileNotFoundError:
        raise CaptureError(f"{capture_path}: capture file not found") from None
    except IsADirectoryError:
        raise CaptureError(f"{capture_path}: is a directory, not a capture file") from None
    engine.flush()
    return engine


def main(settings: Settings, capture_path: str, month: str | None) -> int:
    if month is not None:
        try:
            Month.parse(month, settings.timezone)
        except ValueError as exc:
            raise SlastreamError(f"--month: {exc}") from None
    engine = replay(settings, capture_path)
    ledger = engine.ledger(month)
    sys.stdout.buffer.write(orjson.dumps(ledger, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()
    return 0
