"""The command table and the runtime every command runs in: exit codes, one-line errors,
logging, stop signals."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from slastream import runtime
from slastream.cli import COMMANDS, parser
from slastream.errors import ConfigError, SlastreamError

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "examples" / "contracts" / "loriot.yaml"


def slastream(*args: str, env: dict[str, str] | None = None,
              stdout: int | None = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    # stdout buffered as a user's is (a test runner may set PYTHONUNBUFFERED)
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run([sys.executable, "-m", "slastream", *args], stdout=stdout,
                          stderr=subprocess.PIPE, text=True, check=False, cwd=ROOT,
                          env={**environ, **(env or {})})


# ---------------------------------------------------------------------- the table


def test_every_documented_command_is_in_the_table() -> None:
    assert [c.name for c in COMMANDS] == [
        "replay", "check", "rules", "run", "bridge", "worker", "demo", "simulate", "report",
        "probe", "accesslog", "openslo", "webhook"]


@pytest.mark.parametrize(("argv", "name"), [
    (["replay", "-c", "x.yaml", "cap.jsonl", "--month", "2026-10"], "replay"),
    (["check", "-c", "x.yaml"], "check"),
    (["rules", "--config", "x.yaml"], "rules"),
    (["run", "-c", "x.yaml", "--mqtt", "mqtt://h:1", "--kafka", "h:2", "--http", "3",
      "--record", "f.jsonl"], "run"),
    (["bridge", "-c", "x.yaml", "--mqtt", "mqtt://h:1", "--kafka", "h:2", "--http", "3",
      "--record", "f.jsonl"], "bridge"),
    (["worker", "-c", "x.yaml", "--mqtt", "mqtt://h:1", "--kafka", "h:2", "--http", "3"],
     "worker"),
    (["demo", "--duration", "5", "--port", "1", "-c", "x.yaml", "--mqtt", "mqtt://h:1",
      "--kafka", "h:2", "--http", "3"], "demo"),
    (["simulate", "--capture", "f.jsonl", "--duration", "60", "--rate", "2", "--start",
      "2026-10-01T00:00:00Z", "--seed", "3", "--mqtt", "mqtt://h:1"], "simulate"),
    (["webhook", "-c", "x.yaml", "--mqtt", "mqtt://h:1", "--port", "3"], "webhook"),
])
def test_documented_options_reach_their_command(argv: list[str], name: str) -> None:
    args = parser().parse_args(argv)
    assert args.spec.name == name and args.command == name


def test_worker_takes_no_record_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parser().parse_args(["worker", "-c", "x.yaml", "--record", "f.jsonl"])
    assert exit_.value.code == 2
    assert "unrecognized arguments: --record" in capsys.readouterr().err


def test_demo_defaults() -> None:
    args = parser().parse_args(["demo"])
    assert (args.port, args.duration, args.config, args.http) == (9464, None, None, None)


# ---------------------------------------------------------------------- exit codes


def _raises(exc: BaseException) -> int:
    raise exc


@pytest.mark.parametrize(("exc", "code", "err"), [
    (ConfigError(["a.yaml: x: bad", "a.yaml: y: worse"]), 2, "a.yaml: x: bad\na.yaml: y: worse\n"),
    (SlastreamError("broker away"), 1, "slastream cmd: broker away\n"),
    (FileNotFoundError(2, "No such file or directory", "f"), 1,
     "slastream cmd: f: No such file or directory\n"),
    (KeyboardInterrupt(), 130, ""),
])
def test_exceptions_map_to_exit_codes_and_one_line_each(
        exc: BaseException, code: int, err: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert runtime.run_command("cmd", lambda: _raises(exc)) == code
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", err)


def test_a_successful_command_returns_its_code() -> None:
    assert runtime.run_command("cmd", lambda: 0) == 0


@pytest.mark.parametrize("command", ["check", "rules"])  # a short output, a long one
def test_a_reader_gone_away_is_exit_0_without_a_word(command: str) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # `slastream rules ... | head` after head has exited
    try:
        proc = slastream(command, "-c", str(CONFIG), stdout=write_end)
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (0, "")


def test_errors_of_long_running_commands_are_one_line() -> None:
    proc = slastream("worker", "-c", str(CONFIG), env={"SLASTREAM_KAFKA_PROFILE": "fast"})
    assert proc.returncode == 1
    assert proc.stderr == ("slastream worker: SLASTREAM_KAFKA_PROFILE='fast': must be one "
                           "of embedded, production\n")


def test_config_errors_of_every_command_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("slos: 3\n")
    for argv in (["demo", "-c", str(broken)], ["run", "-c", str(broken)],
                 ["rules", "-c", str(broken)]):
        proc = slastream(*argv)
        assert proc.returncode == 2, argv
        assert proc.stderr.startswith(f"{broken}: slos: "), proc.stderr
        assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------------- logging


def test_log_level_comes_from_the_environment_or_the_default() -> None:
    assert runtime.log_level({}, logging.INFO) == logging.INFO
    assert runtime.log_level({"SLASTREAM_LOG_LEVEL": "debug"}, logging.INFO) == logging.DEBUG
    with pytest.raises(SlastreamError, match="SLASTREAM_LOG_LEVEL='LOUD': must be one of"):
        runtime.log_level({"SLASTREAM_LOG_LEVEL": "loud"}, logging.INFO)


def test_a_bad_log_level_is_a_one_line_error() -> None:
    proc = slastream("check", "-c", str(CONFIG), env={"SLASTREAM_LOG_LEVEL": "loud"})
    assert proc.returncode == 1
    assert proc.stderr.startswith("slastream check: SLASTREAM_LOG_LEVEL='LOUD'")
    assert proc.stderr.count("\n") == 1


def test_log_records_are_one_line_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    try:
        runtime.configure_logging(logging.INFO)
        runtime.configure_logging(logging.INFO)  # again: still one handler of ours
        try:
            raise ValueError("inner\ndetail")
        except ValueError:
            logging.getLogger("slastream.test").exception("it failed:\nsecond line")
        logging.getLogger("slastream.test").debug("below the level")
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
    assert capsys.readouterr().err == "slastream ERROR slastream.test: it failed:\n"


# ---------------------------------------------------------------------- signals


def test_first_signal_sets_stop_and_the_command_returns_its_code() -> None:
    async def main(stop: asyncio.Event) -> int:
        os.kill(os.getpid(), signal.SIGTERM)
        await stop.wait()
        return 0

    assert runtime.run_until_stopped(main) == 0
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_sigint_interrupts_a_hanging_shutdown() -> None:
    async def main(stop: asyncio.Event) -> int:
        os.kill(os.getpid(), signal.SIGINT)
        await stop.wait()
        os.kill(os.getpid(), signal.SIGINT)  # the shutdown hangs: the user presses again
        await asyncio.sleep(0)
        return 99  # the second SIGINT was swallowed

    assert runtime.run_command("cmd", lambda: runtime.run_until_stopped(main)) == 130
