"""``slastream simulate``: write a capture (``--capture``) or publish live (``--mqtt``).

Errors leave as ``SlastreamError`` subclasses with a one-line message; the CLI prints them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time

from slastream.errors import SlastreamError
from slastream.model.time import parse_rfc3339_ms
from slastream.simulate.scenario import Scenario
from slastream.simulate.truth import GroundTruth
from slastream.simulate.writer import write_capture

DEFAULT_START = "2026-10-01T00:00:00Z"  # capture mode: a fixed date, so captures are stable
DEFAULT_CAPTURE_S = 86_400.0  # capture mode without --duration: one day


class UsageError(SlastreamError):
    """A command-line value is out of range."""


def run(args: argparse.Namespace) -> int:
    rate = float(getattr(args, "rate", 1.0))
    duration = getattr(args, "duration", None)
    seed = int(getattr(args, "seed", 1))
    if rate <= 0:
        raise UsageError(f"--rate must be positive, got {rate:g}")
    if duration is not None and duration <= 0:
        raise UsageError(f"--duration must be positive, got {duration:g}")
    scenario = Scenario()
    capture = getattr(args, "capture", None)
    if capture:
        start_text = getattr(args, "start", None) or DEFAULT_START
        try:
            start_ms = parse_rfc3339_ms(start_text)
        except ValueError:
            raise UsageError(f"--start must be an RFC 3339 time like {DEFAULT_START}, "
                             f"got {start_text!r}") from None
        began = time.perf_counter()
        truth = write_capture(capture, scenario.scaled(rate), start_ms,
                              duration or DEFAULT_CAPTURE_S, seed)
        _report_capture(capture, truth, time.perf_counter() - began)
        return 0
    if getattr(args, "start", None):
        raise UsageError("--start applies to --capture only (live traffic runs on the clock)")
    published = asyncio.run(_live(scenario, args.mqtt, duration, rate, seed))
    print(f"published {published:,} messages to {args.mqtt}")
    return 0


async def _live(scenario: Scenario, url: str, duration: float | None, rate: float,
                seed: int) -> int:
    from slastream.simulate.live import parse_mqtt_url, publish_live

    parse_mqtt_url(url)  # a bad URL fails before the banner
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    print(f"publishing simulated traffic to {url} (×{rate:g}); Ctrl-C stops", file=sys.stderr)
    return await publish_live(scenario, url, duration, rate, stop, seed)


def _report_capture(path: str, truth: GroundTruth, elapsed_s: float) -> None:
    rate = truth.messages / elapsed_s if elapsed_s > 0 else 0.0
    print(f"wrote {truth.messages:,} messages to {path} in {elapsed_s:.1f} s ({rate:,.0f} msg/s): "
          f"{truth.uplinks_received:,} uplinks received, {truth.uplinks_delivered:,} delivered, "
          f"{truth.downlinks:,} downlinks, {sum(truth.probes.values()):,} probes, "
          f"{sum(truth.requests.values()):,} requests")
