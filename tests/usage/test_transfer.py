"""Data transfer per 24 h per 1,000 ADIs from access logs: the response sizes the reader
takes from combined lines reach the usage section and /metrics of a replay
(docs/semantics.md#usage); without sizes the figure is null and the metric absent."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import generate_latest

from slastream.accesslog.formats import PRESETS
from slastream.accesslog.reader import run_reader
from slastream.config import load_settings
from slastream.export.metrics import build_registry
from slastream.model.ledger import ledger_json
from slastream.model.time import parse_rfc3339_ms
from slastream.model.usage import MB
from slastream.probe.sinks import CaptureSink
from slastream.replay import replay

READ_AT = parse_rfc3339_ms("2026-10-05T12:00:00Z")  # when the reader ran (the capture's clock)
CONFIG: dict[str, Any] = {
    "timezone": "UTC",
    "slos": [{"name": "api", "sli": "probe", "component": "api", "objective": 0.99,
              "downtime": {"bad_below": 1.0, "min_duration_s": 60}}],
    "contracts": [{"name": "thng", "slos": ["api"],
                   "usage": {"component": "api",
                             "bands": {"A": {"clients": ["a-*"]},
                                       "B": {"clients": ["b-*"]}}}}],
}


def line(client: str, second: int, size: str) -> str:
    minute, sec = divmod(second, 60)
    return (f'{client} - - [05/Oct/2026:10:{minute:02d}:{sec:02d} +0000] '
            f'"GET /thngs HTTP/1.1" 200 {size} "-" "thng/1.0" 0.012')


def usage_of(tmp_path: Path, lines: list[str], preset: str = "combined"
             ) -> tuple[dict[str, Any], str]:
    """The October usage section and /metrics of a replay of what the reader publishes."""
    log = tmp_path / "access.log"
    log.write_text("\n".join(lines) + "\n")
    capture = tmp_path / "requests.jsonl"

    async def read() -> None:
        await run_reader(str(log), "api", PRESETS[preset],
                         CaptureSink(str(capture), lambda: READ_AT), asyncio.Event(),
                         from_start=True, follow=False)

    asyncio.run(read())
    config = tmp_path / "usage.yaml"
    config.write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    engine = replay(load_settings(config), str(capture))
    [contract] = ledger_json(engine.ledger("2026-10"))["contracts"]
    return contract["usage"], generate_latest(build_registry(engine)).decode()


def test_transfer_from_the_response_sizes_of_an_access_log(tmp_path: Path) -> None:
    """5 October: a-1 and a-2 fetch 10 bodies of 64 KiB each, 1.25 MB for 2 ADIs: 625 MB
    per 1,000 ADIs, under band A's 1,024. b-1 fetches 10 bodies of 1 MB: 10,000 MB per
    1,000 ADIs, over band B's 4,608; its one empty answer ("-") counts as zero bytes."""
    lines = [line(client, i, str(64 * 1024)) for client in ("a-1", "a-2") for i in range(10)]
    lines += [line("b-1", 100 + i, str(MB)) for i in range(10)] + [line("b-1", 200, "-")]
    usage, metrics = usage_of(tmp_path, lines)
    bands = {b["band"]: b for b in usage["bands"]}
    assert (bands["A"]["transfer_mb_per_1000"], bands["A"]["days_over_transfer"]) == (625.0, 0)
    assert (bands["B"]["transfer_mb_per_1000"], bands["B"]["days_over_transfer"]) == (
        10_000.0, 1)
    [day] = usage["days"]
    assert [(b["band"], b["over_transfer"]) for b in day["bands"]] == [("A", False),
                                                                      ("B", True)]
    assert 'slastream_usage_transfer_mb_per_1000_adis{band="A",contract="thng"} 625.0' \
        in metrics
    assert 'slastream_usage_transfer_mb_per_1000_adis{band="B",contract="thng"} 10000.0' \
        in metrics


def test_without_sizes_the_transfer_is_null_and_has_no_metric(tmp_path: Path) -> None:
    """A log whose requests carry no size (a JSON log without a size field) judges the
    allowance but not the transfer."""
    lines = [f'{{"time":"2026-10-05T10:00:{i:02d}Z","duration_ms":3,"status":200,'
             f'"client":"a-1"}}' for i in range(5)]
    usage, metrics = usage_of(tmp_path, lines, "json")
    band_a = usage["bands"][0]
    assert (band_a["adis"], band_a["requests"], band_a["transfer_mb_per_1000"]) == (1, 5, None)
    assert "slastream_usage_adis{" in metrics
    assert "slastream_usage_transfer_mb_per_1000_adis{" not in metrics
