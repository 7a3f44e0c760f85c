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
