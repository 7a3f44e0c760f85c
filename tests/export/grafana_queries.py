"""PromQL of the shipped Grafana dashboards, with Grafana's variables filled in."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .promtools import REPO

DASHBOARD_DIR = REPO / "grafana" / "dashboards"
_LABEL_VALUES = re.compile(r"^label_values\((?P<selector>.+),\s*(?P<label>\w+)\)$")


def dashboards() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(DASHBOARD_DIR.glob("*.json"))}


def fill(expr: str, rate_interval: str = "5m") -> str:
    """Replace the variables Grafana would: every multi-value variable selects All (.*)."""
    for name in ("slo", "scope", "contract", "tenant"):
        expr = expr.replace(f"${name}", ".*")
    return expr.replace("$__rate_interval", rate_interval)


def panel_queries(rate_interval: str = "5m") -> list[tuple[str, str]]:
    """(where, PromQL) for every target of every shipped dashboard."""
    out = []
    for name, board in dashboards().items():
        for p in board["panels"]:
            for t in p.get("targets", []):
                out.append((f"{name} panel {p['id']} {p['title']!r}",
                            fill(t["expr"], rate_interval)))
    return out


def variable_queries() -> list[tuple[str, str, str]]:
    """(where, selector, label) for every label_values() variable."""
    out = []
    for name, board in dashboards().items():
        for v in board["templating"]["list"]:
            if v["type"] != "query":
                continue
            m = _LABEL_VALUES.match(v["query"]["query"])
            assert m, f"{name}: variable {v['name']}: not a label_values() query"
            out.append((f"{name} variable {v['name']}", fill(m["selector"]), m["label"]))
    return out


def as_rule_file(path: Path) -> Path:
    """Every dashboard expression as a recording rule, for `promtool check rules`."""
    import yaml

    exprs = [e for _, e in panel_queries()] + [s for _, s, _ in variable_queries()]
    rules = [{"record": f"dashboard:query_{i}:check", "expr": e} for i, e in enumerate(exprs)]
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    return path
