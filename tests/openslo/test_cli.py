"""``slastream openslo export`` and ``import`` as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from slastream.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "slastream", *args], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(SRC)}, check=False,
                          timeout=60)


def test_export_then_import_through_the_command_line(tmp_path: Path) -> None:
    source = ROOT / "examples/contracts/mclimate.yaml"
    docs, config = tmp_path / "mclimate.openslo.yaml", tmp_path / "back.yaml"
    exported = _cli("openslo", "export", "-c", str(source), "-o", str(docs))
    assert (exported.returncode, exported.stderr) == (0, "")
    assert "apiVersion: openslo/v1" in docs.read_text()
    imported = _cli("openslo", "import", str(docs), "-o", str(config))
    assert (imported.returncode, imported.stderr) == (0, "")
    back, original = load_settings(config), load_settings(source)
    assert back.slos == original.slos and back.contracts == original.contracts


def test_what_does_not_map_is_one_line_each_on_stderr() -> None:
    done = _cli("openslo", "import", str(ROOT / "tests/openslo/foreign.yaml"))
    lines = done.stderr.splitlines()
    assert lines and all(line.startswith(f"{ROOT / 'tests/openslo/foreign.yaml'}: ")
                         or line.startswith("<imported config>: ") for line in lines)
    assert done.returncode in (0, 2)


def test_export_needs_a_config_and_import_needs_files() -> None:
    assert _cli("openslo", "export").stderr == (
        "slastream openslo: openslo export takes -c CONFIG and no files\n")
    assert _cli("openslo", "import").returncode == 1
