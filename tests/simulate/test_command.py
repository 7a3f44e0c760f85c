"""``slastream simulate`` as a user runs it: capture mode and one-line errors."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from slastream.errors import SlastreamError
from slastream.model.time import parse_rfc3339_ms
from slastream.simulate import main
from slastream.sources.capture import BadLine, read_capture


def _args(**kw: object) -> argparse.Namespace:
    base: dict[str, object] = {"mqtt": "mqtt://127.0.0.1:1", "duration": None, "rate": 1.0,
                               "capture": None, "start": None, "seed": 1}
    base.update(kw)
    return argparse.Namespace(**base)


def test_capture_mode_writes_from_the_start_time(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "day.jsonl"
    assert main(_args(capture=str(path), duration=600.0, rate=0.25,
                      start="2027-02-28T23:55:00Z")) == 0
    lines = list(read_capture(str(path)))
    messages = [m for m in lines if not isinstance(m, BadLine)]
    assert messages and len(messages) == len(lines)
    start = parse_rfc3339_ms("2027-02-28T23:55:00Z")
    assert start <= messages[0].received_ms and messages[-1].received_ms < start + 600_000
    out = capsys.readouterr().out
    assert out.startswith(f"wrote {len(messages):,} messages to {path}")


def test_rate_scales_the_traffic(tmp_path: Path) -> None:
    sizes = []
    for rate in (0.5, 2.0):
        path = tmp_path / f"r{rate}.jsonl"
        main(_args(capture=str(path), duration=300.0, rate=rate))
        sizes.append(sum(1 for _ in path.open("rb")))
    assert sizes[1] > 3 * sizes[0]


@pytest.mark.parametrize(("kw", "text"), [
    ({"rate": 0.0}, "--rate must be positive"),
    ({"duration": -5.0}, "--duration must be positive"),
    ({"start": "yesterday", "capture": "x.jsonl"}, "--start must be an RFC 3339 time"),
    ({"start": "2026-10-01T00:00:00Z"}, "--start applies to --capture only"),
])
def test_bad_arguments_are_errors(kw: dict[str, object], text: str) -> None:
    with pytest.raises(SlastreamError, match=text):
        main(_args(**kw))


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "slastream", "simulate", "--capture",
         str(tmp_path / "missing" / "x.jsonl"), "--duration", "60"],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0
    assert "cannot write" in proc.stderr and "Traceback" not in proc.stderr
