"""Memory of the request-allowance counter per active device, at 1,000,000 devices.

Every device (a 24-character id, as EVRYTHNG thng ids are) makes requests in one day, so
each has a day count, a run in flight and month flags. The figure is what tracemalloc sees
allocated and kept, divided by the devices; the bound is 150 bytes.

    PYTHONPATH=src python benchmarks/usage_state.py [DEVICES]
"""

from __future__ import annotations

import sys
import time
import tracemalloc

from slastream.config.usage import parse_usage
from slastream.usage.counter import UsageCounter, UsageRequest

BATCH = 20_000
START_MS = 1_791_280_800_000  # 2026-10-06T10:00:00Z


def main(devices: int) -> None:
    terms = parse_usage({"bands": {"A": {"clients": ["a-*"]}}}, "usage",
                        lambda k, w: sys.exit(f"{k}: {w}"))
    assert terms is not None
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    counter = UsageCounter(terms, "UTC", lateness_s=120)
    began = time.perf_counter()
    for rnd in range(2):  # two requests per device, 1 s apart (each device's run in flight)
        for i in range(0, devices, BATCH):
            at = START_MS + rnd * 1000
            counter.feed([UsageRequest(at + (j % 1000), "api", f"a-U{j:021d}")
                          for j in range(i, min(i + BATCH, devices))])
            counter.advance(at - 120_000)
    counter.advance(START_MS + 10_000)
    elapsed = time.perf_counter() - began
    used, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert counter.devices.size == devices
    per = (used - base) / devices
    print(f"{devices:,} devices, {2 * devices:,} requests in {elapsed:.1f} s (traced)")
    print(f"state: {used - base:,} bytes = {per:.1f} bytes per device "
          f"(peak while feeding {(peak - base) / devices:.1f}); bound 150")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
