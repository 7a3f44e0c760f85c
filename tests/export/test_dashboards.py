"""The Grafana dashboards: generated from code, valid dashboard JSON, PromQL that parses.

That every query also returns data is checked against a real Prometheus scraping a real
endpoint in tests/integration/test_alerting.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from slastream.export.dashboards import SCHEMA_VERSION, render_all

from .grafana_queries import DASHBOARD_DIR, as_rule_file, dashboards, panel_queries
from .promtools import REPO, binary, run

BOARDS = dashboards()


def test_committed_dashboards_are_the_generated_ones() -> None:
    """Edit slastream/export/dashboards.py, then `python -m slastream.export.dashboards`."""
    generated = render_all()
    assert sorted(generated) == sorted(p.name for p in DASHBOARD_DIR.glob("*.json"))
    for name, text in generated.items():
        assert (DASHBOARD_DIR / name).read_text(encoding="utf-8") == text, name


def test_the_five_dashboards_are_shipped() -> None:
    titles = {b["title"] for b in BOARDS.values()}
    assert titles == {"slastream / Fleet overview", "slastream / LoRaWAN",
                      "slastream / Components", "slastream / Pipeline health",
                      "slastream / Tenants"}
    assert len({b["uid"] for b in BOARDS.values()}) == len(BOARDS)


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_dashboard_model(name: str) -> None:
    board = BOARDS[name]
    assert board["schemaVersion"] == SCHEMA_VERSION
    ids = [p["id"] for p in board["panels"]]
    assert all(isinstance(i, int) and i > 0 for i in ids)
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for p in board["panels"]:
        pos = p["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24 and pos["h"] > 0, p["title"]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    ds = variables["datasource"]
    assert (ds["type"], ds["query"]) == ("datasource", "prometheus")
    for key in ("contract", "slo", "scope", "tenant"):
        assert variables[key]["type"] == "query" and variables[key]["includeAll"]


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_query_uses_the_datasource_variable_and_defined_variables(name: str) -> None:
    board = BOARDS[name]
    defined = {v["name"] for v in board["templating"]["list"]} | {"__rate_interval"}
    panels: list[dict[str, Any]] = [p for p in board["panels"] if p["type"] != "row"]
    assert panels
    for p in panels:
        assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, p["title"]
        assert p["targets"], p["title"]
        for t in p["targets"]:
            assert t["datasource"]["uid"] == "${datasource}"
            used = set(re.findall(r"\$(\w+)", t["expr"]))
            assert used <= defined, (p["title"], used - defined)


def test_every_promql_expression_parses(tmp_path: Path) -> None:
    promtool = binary("promtool")
    rules = as_rule_file(tmp_path / "dashboards.rules.yaml")
    result = run(promtool, "check", "rules", str(rules))
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(yaml.safe_load(rules.read_text())["groups"][0]["rules"]) > len(panel_queries()) > 30


def test_provisioning_points_at_the_dashboards() -> None:
    prov = yaml.safe_load((REPO / "grafana/provisioning/dashboards/slastream.yaml").read_text())
    assert prov["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards/slastream"
    ds = yaml.safe_load((REPO / "grafana/provisioning/datasources/prometheus.yaml").read_text())
    assert ds["datasources"][0]["type"] == "prometheus"
