"""`slastream check`: exit 0, or exit 2 with one clear line per problem; never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def check(path: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "slastream", "check", "-c", str(path)],
                          capture_output=True, text=True, check=False, cwd=ROOT)


@pytest.mark.parametrize("name", ["loriot", "mclimate", "evrythng", "cumulocity"])
def test_shipped_contracts_are_valid(name: str) -> None:
    proc = check(ROOT / "examples" / "contracts" / f"{name}.yaml")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(str(ROOT / "examples" / "contracts" / f"{name}.yaml"))


GOOD_SLO = "  - {name: a, sli: probe, component: api, objective: 0.999}\n"


@pytest.mark.parametrize(("text", "expected"), [
    ("slos: [\n  - {name: a\n", ["invalid YAML"]),
    ("slos:\n  - {name: a, sli: probe, component: api, objective: '0.999'}\n",
     ["slos[0].objective: must be a number, got '0.999'"]),
    ("slos:\n  - {name: a, sli: probe, component: api, objective: 99.9}\n",
     ["slos[0].objective: must be between 0.0 and 1.0, got 99.9"]),
    ("slos:\n  - {name: a, sli: uptime, objective: 0.9}\n",
     ["slos[0].sli: unknown SLI kind 'uptime'; known: delivery, rx2, probe, response_time"]),
    ("slos:\n  - {name: a, sli: probe, objective: 0.9}\n",
     ["slos[0].component: is required for sli probe"]),
    ("slos:\n" + GOOD_SLO + "timezone: Mars/Olympus\n",
     ["timezone: unknown IANA time zone 'Mars/Olympus'"]),
    ("slos:\n" + GOOD_SLO + "contracts:\n  - {name: c, slos: [a, b]}\n",
     ["contracts[0].slos: unknown SLO 'b'"]),
    ("slos:\n" + GOOD_SLO + "exclusion_policy: {holiday: {}}\n",
     ["exclusion_policy.holiday: unknown exclusion kind"]),
    ("slos:\n" + GOOD_SLO + "lateness_s: -5\nbogus: 1\n",
     ["bogus: unknown key", "lateness_s: must be between 0 and 86400, got -5"]),
    ("- just\n- a list\n", ["(top level): must be a mapping, got list"]),
    ("slos:\n  - {name: a, sli: probe, component: api, objective: 0.999, "
     "alerting: {period: 3x}}\n", ["slos[0].alerting.period: must be a duration"]),
])
def test_broken_configs_exit_2_with_one_line_per_problem(
        tmp_path: Path, text: str, expected: list[str]) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    proc = check(path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == len(expected), proc.stderr
    for line, want in zip(lines, expected, strict=True):
        assert line.startswith(f"{path}: ")
        assert want in line
    assert "Traceback" not in proc.stderr


def test_missing_file(tmp_path: Path) -> None:
    proc = check(tmp_path / "nope.yaml")
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"{tmp_path / 'nope.yaml'}: (file): not found"


def test_replay_errors_are_one_line(tmp_path: Path) -> None:
    cfg = ROOT / "examples" / "contracts" / "mclimate.yaml"
    for args, fragment in ((["replay", "-c", str(cfg), str(tmp_path / "none.jsonl")],
                            "capture file not found"),
                           (["replay", "-c", str(cfg), str(tmp_path), "--month", "2026-13"],
                            "--month: month must be YYYY-MM"),
                           (["replay", "-c", str(cfg), str(tmp_path), "--jobs", "0"],
                            "--jobs: at least 1")):
        proc = subprocess.run([sys.executable, "-m", "slastream", *args], capture_output=True,
                              text=True, check=False, cwd=ROOT)
        assert proc.returncode == 1
        assert len(proc.stderr.strip().splitlines()) == 1 and fragment in proc.stderr


def test_declared_exclusions_accept_unquoted_yaml_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(GOOD_SLO.join(["slos:\n", ""]) + "exclusions:\n  - {id: x, scope: api, "
                    "start: 2026-10-01T00:00:00Z, end: 2026-10-01T01:00:00Z, kind: maintenance}\n")
    assert check(path).returncode == 0
    path.write_text(GOOD_SLO.join(["slos:\n", ""]) + "exclusions:\n  - {id: x, scope: api, "
                    "start: 2026-10-01T02:00:00Z, end: 2026-10-01T01:00:00Z, kind: maintenance}\n")
    proc = check(path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"{path}: exclusions[0]: end must be after start"
