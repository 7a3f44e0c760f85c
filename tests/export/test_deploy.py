"""deploy/: configs load in the real binaries, the routing tree and inhibition do what the
comments promise, the manifests parse and agree with the config and generated rules."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from slastream.config import load_settings
from slastream.export.rules import rule_groups

from .promtools import REPO, Service, alertmanager, binary, http_json, run

DEPLOY = REPO / "deploy"
CONFIG = DEPLOY / "config" / "slastream.yaml"
AM_CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"


def test_prometheus_config_is_valid() -> None:
    config = DEPLOY / "prometheus" / "prometheus.yml"
    result = run(binary("promtool"), "check", "config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr


def test_alertmanager_config_is_valid() -> None:
    result = run(binary("amtool"), "check-config", str(AM_CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("labels,receiver", [
    (["alertname=SLOErrorBudgetBurn", "severity=page", "tier=1"], "on-call-pager"),
    (["alertname=SLOOutage", "severity=page", "tier=0"], "on-call-pager"),
    (["alertname=SLOErrorBudgetBurn", "severity=ticket", "tier=3"], "slo-tickets"),
    (["alertname=SLONoData", "severity=ticket"], "slo-tickets"),
    (["alertname=SLAContractCreditDue", "severity=ticket", "contract=loriot"],
     "account-managers"),
    (["alertname=SlastreamWatermarkDelayHigh", "severity=ticket"], "slastream-operators"),
])
def test_routing_tree(labels: list[str], receiver: str) -> None:
    result = run(binary("amtool"), "config", "routes", "test", f"--config.file={AM_CONFIG}",
                 *labels)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == receiver


def _post_alerts(am: Service, alerts: list[dict[str, Any]]) -> None:
    now = datetime.now(UTC)
    body = [{"labels": a, "startsAt": now.isoformat(),
             "endsAt": (now + timedelta(minutes=10)).isoformat()} for a in alerts]
    req = urllib.request.Request(f"{am.url}/api/v2/alerts", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=5).close()


def test_a_faster_tier_inhibits_the_slower_ones_of_the_same_slo(tmp_path: Path) -> None:
    """Against a real Alertmanager running deploy's config: one page per SLO."""
    burn = {"alertname": "SLOErrorBudgetBurn", "slo": "api", "scope": "api"}
    alerts = [
        {**burn, "severity": "page", "tier": "1"},
        {**burn, "severity": "page", "tier": "2"},
        {**burn, "severity": "ticket", "tier": "4"},
        {"alertname": "SLONoData", "slo": "api", "scope": "api", "severity": "ticket"},
        # another SLO is not silenced by api's page
        {**burn, "slo": "rx2", "scope": "network", "severity": "ticket", "tier": "3"},
    ]
    with alertmanager(tmp_path, config_path=AM_CONFIG) as am:
        _post_alerts(am, alerts)

        expected = {
            ("api", "SLOErrorBudgetBurn", "1"): "active",
            ("api", "SLOErrorBudgetBurn", "2"): "suppressed",
            ("api", "SLOErrorBudgetBurn", "4"): "suppressed",
            ("api", "SLONoData", ""): "suppressed",
            ("rx2", "SLOErrorBudgetBurn", "3"): "active",
        }

        def states() -> dict[tuple[str, str, str], str]:
            return {(a["labels"]["slo"], a["labels"]["alertname"], a["labels"].get("tier", "")):
                    a["status"]["state"] for a in http_json(f"{am.url}/api/v2/alerts")}

        # The inhibitor learns of new alerts asynchronously: poll until it has settled.
        deadline = time.monotonic() + 15
        while (got := states()) != expected and time.monotonic() < deadline:
            time.sleep(0.2)
    assert got == expected


def test_compose_file_has_every_service_and_its_files() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) >= {"kafka", "mosquitto", "bridge", "worker", "rules", "prometheus",
                             "alertmanager", "grafana"}
    assert "controller" in services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]  # KRaft
    assert services["worker"]["deploy"]["replicas"] >= 2
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name}: {source} does not exist"


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_kubernetes_manifests_parse_and_agree_with_the_config(tmp_path: Path) -> None:
    kdir = DEPLOY / "kubernetes"
    kustomization = yaml.safe_load((kdir / "kustomization.yaml").read_text())
    docs = [d for name in kustomization["resources"] for d in _docs(kdir / name)]
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert kinds >= {("Deployment", "slastream-bridge"), ("Deployment", "slastream-worker"),
                     ("Service", "slastream-worker"), ("PodMonitor", "slastream-worker"),
                     ("PrometheusRule", "slastream"), ("ConfigMap", "slastream-config")}
    configmap = next(d for d in docs if d["kind"] == "ConfigMap")
    assert configmap["data"]["slastream.yaml"] == CONFIG.read_text()
    settings = load_settings(CONFIG)
    rule = next(d for d in docs if d["kind"] == "PrometheusRule")
    assert rule["spec"]["groups"] == rule_groups(settings), (
        "regenerate: python -m slastream.export.rules -c deploy/config/slastream.yaml "
        "> deploy/kubernetes/prometheusrule.yaml")
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    result = run(binary("promtool"), "check", "rules", str(rules_file))
    assert result.returncode == 0, result.stdout + result.stderr
    worker = next(d for d in docs if d["kind"] == "Deployment"
                  and d["metadata"]["name"] == "slastream-worker")
    assert worker["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == str(
        settings.http.port)


def test_deploy_config_listens_beyond_loopback_and_shares_the_subscription() -> None:
    settings = load_settings(CONFIG)
    assert settings.http.host == "0.0.0.0"
    assert settings.mqtt.shared_group


def test_every_default_runbook_link_has_a_runbook() -> None:
    """The default runbook_url of each generated alert points at a heading that exists."""
    import re

    from slastream.export.alerting import DEFAULT_RUNBOOK_URL

    readme = (DEPLOY / "README.md").read_text()
    # GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens.
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
               for h in re.findall(r"^#+ (.+)$", readme, re.M)}
    base = DEFAULT_RUNBOOK_URL.split("#")[0]
    links = {r["annotations"]["runbook_url"]
             for config in (CONFIG, REPO / "tests" / "export" / "fixture.yaml")
             for g in rule_groups(load_settings(config)) for r in g["rules"] if "alert" in r}
    default = {link for link in links if link.startswith(base + "#")}
    assert len(default) == 7  # every alert name the generator knows
    for link in default:
        assert link.split("#")[1] in anchors, link
