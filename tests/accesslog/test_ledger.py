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


def test_main_reads_stdin_into_a_capture(tmp_path: Path) -> None:
    reqs = requests(hours=1)
    capture = tmp_path / "out.jsonl"
    code = ("import sys; from slastream.accesslog.reader import main; "
            f"sys.exit(main('-', 'api', 'combined', None, {str(capture)!r}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          input=("\n".join(combined_line(r) for r in reqs) + "\nbad\n").encode(),
                          env={**os.environ, "PYTHONPATH": str(SRC)}, check=False, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr.decode().strip() == (
        f"{len(reqs) + 1} lines: {len(reqs)} requests in 3 messages, 1 rejected "
        f"(not combined format: 1)")
    published = [orjson.loads(line)["payload"] for line in capture.read_bytes().splitlines()]
    assert sum(len(batch) for batch in published) == len(reqs)
    assert published[0][0] == {"time": "2026-10-01T00:00:00.000Z",
                               "duration_ms": float(reqs[0].duration_ms),
                               "status": reqs[0].status, "client": reqs[0].client}


def test_main_refuses_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    from slastream.accesslog.reader import main
    assert main("-", "api", "apache") == 2
    assert main("-", "a/b", "combined") == 2
    assert main("-", "api", "json", fields={"colour": "x"}) == 2
    assert main("/no/such/log", "api", "combined", follow=False) == 1
    assert capsys.readouterr().err.splitlines() == [
        "unknown log format 'apache'; known: combined, json, nginx-json, envoy-json",
        "component must be a topic level without /, + or #, got 'a/b'",
        "bad log format fields: LogFormat.__init__() got an unexpected keyword argument "
        "'colour'",
        "/no/such/log: No such file or directory",
    ]
