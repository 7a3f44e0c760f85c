"""A contract's request allowance (``usage``) through the one config checker."""

from __future__ import annotations

from pathlib import Path

import pytest

from slastream.config import load_settings
from slastream.errors import ConfigError

CONFIG = """
slos: [{name: uptime, sli: probe, component: api, objective: 0.999}]
contracts:
  - name: evrythng
    slos: [uptime]
    usage:
      component: api
      bands: {A: {clients: ["a-*"]}, B: {}}
      mapping_file: adis.csv
"""


def test_usage_terms_load_with_the_mapping_file_beside_the_config(tmp_path: Path) -> None:
    (tmp_path / "adis.csv").write_text("client,band\nthng-1,B\n")
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG)
    usage = load_settings(config).contracts[0].usage
    assert usage is not None
    assert usage.mapping_file == str(tmp_path / "adis.csv")
    assert {b.name for b in usage.bands} == {"A", "B"}


def test_a_missing_mapping_file_is_one_config_line(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG)
    with pytest.raises(ConfigError) as err:
        load_settings(config)
    assert err.value.problems == [
        f"{config}: contracts[0].usage.mapping_file: file not found: {tmp_path / 'adis.csv'}"]


def test_usage_terms_written_back_read_the_same() -> None:
    from slastream.config.usage import parse_usage, usage_syntax

    root = Path(__file__).resolve().parents[2]
    usage = load_settings(root / "examples/contracts/evrythng.yaml").contracts[0].usage
    assert usage is not None and [b.name for b in usage.bands] == ["Trial", "F", "U", "A", "B"]
    problems: list[str] = []
    again = parse_usage(usage_syntax(usage), "usage", lambda k, w: problems.append(f"{k}: {w}"))
    assert (again, problems) == (usage, [])
