"""The reader's output gives the same response-time ledger as publishing the same requests
directly; and ``main`` reads stdin."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from slastream.accesslog.formats import PRESETS
from slastream.accesslog.reader import run_reader
from slastream.probe.sinks import CaptureSink
from tests.accesslog.traffic import (
    START,
    combined_line,
    comparable,
    direct_capture,
    nginx_json_line,
    requests,
    response_time_config,
)
from tests.probe.replaying import SRC, replay_ledger, slo_entry

START_MS = int(START.timestamp() * 1000)  # the reader's clock: when the log is read


@pytest.mark.parametrize(("preset", "render"), [("combined", combined_line),
                                                ("nginx-json", nginx_json_line)])
async def test_reader_output_gives_the_same_ledger_as_direct_publishing(
        tmp_path: Path, preset: str, render: object) -> None:
    reqs = requests()
    log = tmp_path / "access.log"
    bad = ["", "this is not a log line"]
    log.write_text("\n".join([*bad, *(render(r) for r in reqs)]) + "\n")  # type: ignore[operator]
    via_reader = tmp_path / "reader.jsonl"
    stats = await run_reader(str(log), "api", PRESETS[preset],
                             CaptureSink(str(via_reader), lambda: START_MS), asyncio.Event(),
                             from_start=True, follow=False, batch_max=200)
    assert stats.requests == len(reqs) and stats.lines == len(reqs) + 2
    assert sum(stats.rejected.values()) == 2
    assert stats.batches == -(-len(reqs) // 200)
    topics = {orjson.loads(line)["topic"] for line in via_reader.read_bytes().splitlines()}
    assert topics == {"slastream/request/api"}

    config = response_time_config("api")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    direct = replay_ledger(config, direct_capture(reqs, "api", tmp_path / "direct.jsonl"),
                           tmp_path / "a")
    read = replay_ledger(config, via_reader, tmp_path / "b")
    assert comparable(read) == comparable(direct)
    assert read["inputs"]["messages"] == stats.batches
    slo = slo_entry(direct, "response-time")
    assert slo["downtime_minutes"] > 0 and slo["episodes"]  # the slow 20 minutes show


def _cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "slastream", *args], capture_output=True,
                          input=stdin, env={**os.environ, "PYTHONPATH": str(SRC)},
                          check=False, timeout=120)


def test_the_command_reads_stdin_into_a_capture(tmp_path: Path) -> None:
    reqs = requests(hours=1)
    capture = tmp_path / "out.jsonl"
    done = _cli("accesslog", "-", "--component", "api", "--capture", str(capture),
                stdin=("\n".join(combined_line(r) for r in reqs) + "\nbad\n").encode())
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr.decode().strip() == (
        f"{len(reqs) + 1} lines: {len(reqs)} requests in 3 messages, 1 rejected "
        f"(not combined format: 1)")
    published = [orjson.loads(line)["payload"] for line in capture.read_bytes().splitlines()]
    assert sum(len(batch) for batch in published) == len(reqs)
    assert published[0][0] == {"time": "2026-10-01T00:00:00.000Z",
                               "duration_ms": float(reqs[0].duration_ms),
                               "status": reqs[0].status, "client": reqs[0].client,
                               "bytes": 512}  # the combined line's response size


@pytest.mark.parametrize(("args", "code", "line"), [
    (["--format", "apache"], 1, "slastream accesslog: unknown log format 'apache'; known: "
                                "combined, json, nginx-json, envoy-json"),
    (["--component", "a/b"], 1, "slastream accesslog: component must be a topic level "
                                "without /, + or #, got 'a/b'"),
    (["--format", "json", "--field", "colour=x"], 1,
     "slastream accesslog: bad log format fields: LogFormat.__init__() got an unexpected "
     "keyword argument 'colour'"),
    (["--field", "colour"], 1, "slastream accesslog: --field must be NAME=VALUE, got 'colour'"),
])
def test_the_command_refuses_bad_arguments_in_one_line(args: list[str], code: int,
                                                      line: str) -> None:
    full = ["accesslog", "-", "--component", "api", "--once", *args]
    if "--component" in args:
        full = ["accesslog", "-", "--once", *args]
    done = _cli(*full)
    assert (done.returncode, done.stderr.decode().splitlines()) == (code, [line])


def test_a_log_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    done = _cli("accesslog", str(tmp_path / "missing.log"), "--component", "api", "--once",
                "--capture", str(tmp_path / "out.jsonl"))
    assert done.returncode == 1
    assert done.stderr.decode().splitlines() == [
        f"slastream accesslog: {tmp_path / 'missing.log'}: No such file or directory"]
