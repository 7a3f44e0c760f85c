"""Run ``slastream replay`` on a capture, as a user would, and return the ledger."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import yaml

SRC = Path(__file__).resolve().parents[2] / "src"


def replay_ledger(config: dict[str, Any], capture: Path, tmp: Path) -> dict[str, Any]:
    config_path = tmp / "config.yaml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run(
        [sys.executable, "-m", "slastream", "replay", "-c", str(config_path), str(capture)],
        capture_output=True, env=env, check=False)
    assert done.returncode == 0, done.stderr.decode()
    ledger: dict[str, Any] = orjson.loads(done.stdout)
    return ledger


def probe_config(component: str) -> dict[str, Any]:
    """One probe SLO for ``component``: every failed minute is downtime."""
    return {
        "timezone": "UTC",
        "slos": [{"name": f"{component}-availability", "sli": "probe", "component": component,
                  "objective": 0.999, "downtime": {"bad_below": 1.0, "min_duration_s": 60}}],
    }


def slo_entry(ledger: dict[str, Any], name: str) -> dict[str, Any]:
    entries = [s for s in ledger["slos"] if s["name"] == name]
    assert len(entries) == 1, ledger["slos"]
    return entries[0]
