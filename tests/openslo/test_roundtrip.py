"""Export a config to OpenSLO, import the documents: the same settings come back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from slastream.config import load_settings, parse_settings
from slastream.model.spec import Settings
from slastream.openslo import export_main, import_main

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = [
    *sorted((ROOT / "examples" / "contracts").glob("*.yaml")),
    ROOT / "src" / "slastream" / "demo.yaml",
    Path(__file__).parent / "edge.yaml",
]


def _round_trip(settings: Settings, tmp_path: Path) -> tuple[Settings, list[str]]:
    exported = tmp_path / "openslo.yaml"
    exported.write_text(export_main(settings), encoding="utf-8")
    text, problems = import_main([str(exported)])
    return parse_settings(yaml.safe_load(text), settings.source), problems


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_export_then_import_gives_the_same_settings(path: Path, tmp_path: Path) -> None:
    settings = load_settings(path)
    back, problems = _round_trip(settings, tmp_path)
    assert problems == []
    for section in ("timezone", "lateness_s", "exclusion_policy", "exclusions", "lorawan",
                    "mqtt", "kafka", "http", "contracts"):
        assert getattr(back, section) == getattr(settings, section), section
    for ours, theirs in zip(settings.slos, back.slos, strict=True):
        assert theirs == ours
    assert back == settings


def test_the_edge_config_sets_what_the_defaults_would_hide() -> None:
    # Guards the round trip above against passing because everything is a default.
    s = load_settings(Path(__file__).parent / "edge.yaml")
    assert s.timezone == "Europe/Berlin" and s.exclusions and s.mqtt.shared_group == "sla"
    first = s.slo("LoRaWAN_Delivery")
    assert first.alerting.windows[0].long_s == 90 and first.alerting.windows[0].for_s == 45
    assert first.alerting.no_data is None and first.alerting.service == "Customer_Config"
    assert s.slo("lorawan.delivery").downtime.bad_below == 0.0
    assert s.slo("latency").downtime.bad_above_ms == 750 and s.slo("latency").target_ms == 300
    assert s.slo("latency-untargeted").objective is None
    assert len(first.description) > 1050


def test_an_edited_document_changes_the_imported_settings(tmp_path: Path) -> None:
    # The import reads the documents, not a copy of the config: edit the objective and the
    # minute threshold in OpenSLO terms and slastream's settings follow.
    settings = load_settings(ROOT / "examples" / "contracts" / "loriot.yaml")
    text = export_main(settings).replace("target: 0.999", "target: 0.995", 1)
    text = text.replace("timeSliceTarget: 0.75", "timeSliceTarget: 0.9", 1)
    edited = tmp_path / "edited.yaml"
    edited.write_text(text, encoding="utf-8")
    config, problems = import_main([str(edited)])
    back = parse_settings(yaml.safe_load(config), settings.source)
    assert problems == []
    delivery = back.slo("lorawan-delivery")
    assert delivery.objective == 0.995 and delivery.downtime.bad_below == 0.9
    assert replace(back, slos=settings.slos) == settings


def test_secrets_travel_as_their_env_and_file_keys_never_as_values(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLASTREAM_TEST_HTTP_TOKEN", "tok-123-secret")
    (tmp_path / "mqtt.pw").write_text("pw-456-secret\n", encoding="utf-8")
    data = yaml.safe_load((ROOT / "examples" / "contracts" / "loriot.yaml").read_text())
    data["http"] = {"token_env": "SLASTREAM_TEST_HTTP_TOKEN", "protect": ["api", "status"]}
    data["mqtt"] = {"url": "mqtt://broker:1883", "username": "bridge",
                    "password_file": str(tmp_path / "mqtt.pw")}
    settings = parse_settings(data, str(tmp_path / "c.yaml"))
    text = export_main(settings)
    assert "tok-123-secret" not in text and "pw-456-secret" not in text
    back, problems = _round_trip(settings, tmp_path)
    assert problems == []
    assert back.http.token is not None and back.http.token.reveal() == "tok-123-secret"
    assert back.http.protect == ("api", "status")
    assert back.mqtt.password is not None and back.mqtt.password.reveal() == "pw-456-secret"
    assert back.mqtt.username == "bridge"
