"""The ``zendesk:`` section: mappings checked against the contracts' support terms, the
signing secret kept out of the config, and which mapping a ticket belongs to."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from slastream.config import load_settings, parse_settings
from slastream.errors import ConfigError, Rejected, SlastreamError
from slastream.model.events import TicketEvent
from slastream.model.zendesk import ZendeskSettings
from slastream.support.webhook import signing_secret
from slastream.support.zendesk import decode_webhook
from tests.support.contracts import CUMULOCITY, EVRYTHNG, utc
from tests.support.test_zendesk import body

SEVERITIES = {"urgent": "Crisis", "high": "Critical", "normal": "Standard", "low": "Standard"}


def config(zendesk: Any) -> dict[str, Any]:
    return {
        "timezone": "UTC",
        "slos": [{"name": "api", "sli": "probe", "component": "api", "objective": 0.99}],
        "contracts": [
            {"name": "cumulocity", "slos": ["api"], "support": copy.deepcopy(CUMULOCITY)},
            {"name": "evrythng", "slos": ["api"], "support": copy.deepcopy(EVRYTHNG)},
            {"name": "plain", "slos": ["api"]},
        ],
        "zendesk": zendesk,
    }


ZENDESK: dict[str, Any] = {
    "mappings": [
        {"contract": "cumulocity", "organizations": [360001, "360002"],
         "severities": SEVERITIES, "severity_tags": {"sev_crisis": "Crisis"},
         "regions": {"emea": "EMEA", "apj": "APJ"}},
        {"contract": "evrythng", "brands": ["77"],
         "severities": {"urgent": "Severity 1", "high": "Severity 2", "normal": "Severity 3",
                        "low": "Severity 3"}},
    ],
}


def zendesk_settings(raw: dict[str, Any] = ZENDESK) -> ZendeskSettings:
    settings = parse_settings(config(raw), "test.yaml").zendesk
    assert settings is not None
    return settings


def test_the_section_as_values() -> None:
    z = zendesk_settings()
    assert (z.host, z.port, z.path, z.secret_file) == ("127.0.0.1", 9466, "/zendesk", None)
    first, second = z.mappings
    assert first.organizations == ("360001", "360002") and second.brands == ("77",)
    assert first.severity_tags == (("sev_crisis", "Crisis"),)
    assert parse_settings(config(None), "test.yaml").zendesk is None


@pytest.mark.parametrize(("change", "problem"), [
    ({"secret": "hunter2"}, "zendesk.secret: the signing secret never goes in the config"),
    ({"port": 70000}, "zendesk.port: must be a port number"),
    ({"path": "zendesk"}, "zendesk.path: must start with /"),
    ({"mappings": []}, "zendesk.mappings: must be a non-empty list"),
    ({"mappings": [{"contract": "plain", "severities": SEVERITIES}]},
     "zendesk.mappings[0].contract: 'plain' is not a contract with support terms"),
    ({"mappings": [{"contract": "cumulocity", "severities": {"urgent": "Severity 1"}}]},
     "zendesk.mappings[0].severities.urgent: 'Severity 1' is not a severity of the contract"),
    ({"mappings": [{"contract": "cumulocity", "severities": {"asap": "Crisis"}}]},
     "zendesk.mappings[0].severities.asap: must be one of urgent, high, normal, low, none"),
    ({"mappings": [{"contract": "cumulocity"}]},
     "zendesk.mappings[0].severities: is required (or severity_tags)"),
    ({"mappings": [{"contract": "cumulocity", "severities": SEVERITIES,
                    "organizations": "360001"}]},
     "zendesk.mappings[0].organizations: must be a list of Zendesk ids"),
])
def test_problems_are_one_line_each(change: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings(config({**ZENDESK, **change}), "test.yaml")
    assert any(line.startswith(f"test.yaml: {problem}") for line in err.value.problems), \
        err.value.problems


def test_the_secret_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "zendesk.secret"
    secret.write_text("from-file\n")
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config({**ZENDESK, "secret_file": "zendesk.secret"})))
    z = load_settings(path).zendesk
    assert z is not None and z.secret_file == str(secret)
    assert signing_secret({}, z) == b"from-file"
    assert signing_secret({"SLASTREAM_ZENDESK_SECRET": "from-env"}, z) == b"from-env"
    with pytest.raises(SlastreamError, match=r"no signing secret: set SLASTREAM_ZENDESK_SECRET"):
        signing_secret({}, zendesk_settings())
    path.write_text(yaml.safe_dump(config({**ZENDESK, "secret_file": "missing.secret"})))
    with pytest.raises(ConfigError, match=r"zendesk\.secret_file: file not found"):
        load_settings(path)


def decode(payload: dict[str, Any], z: ZendeskSettings | None = None) -> list[TicketEvent]:
    out: list[TicketEvent] = []
    assert decode_webhook(payload, z or zendesk_settings(), out) is None
    return out


def test_the_organisation_then_the_brand_decides_the_contract() -> None:
    created = body("created", "2026-11-20T15:50:01Z", organization_id="360002", brand_id="77")
    assert {(e.contract, e.severity) for e in decode(created)} == {("cumulocity", "Critical")}
    by_brand = body("created", "2026-11-20T15:50:01Z", organization_id=None, brand_id="77")
    assert {(e.contract, e.severity) for e in decode(by_brand)} == {("evrythng", "Severity 2")}
    unknown = body("created", "2026-11-20T15:50:01Z", organization_id="9", brand_id="8")
    with pytest.raises(Rejected, match="no contract for organization 9 and brand 8"):
        decode(unknown)
    catch_all = zendesk_settings({"mappings": [
        ZENDESK["mappings"][0], {"contract": "evrythng", "severities": {"high": "Severity 2"}}]})
    assert {e.contract for e in decode(unknown, catch_all)} == {"evrythng"}


def test_a_severity_field_wins_over_the_priority() -> None:
    """A drop-down field's option adds its tag: the ticket is Crisis though its priority is
    high, a priority change does not move it, and choosing the option later is a severity
    change."""
    created = body("created", "2026-11-20T15:50:01Z", organization_id="360001",
                   tags=["emea", "sev_crisis"])
    assert [(e.event, e.severity) for e in decode(created)] == [("opened", "Crisis")]
    raised = body("priority_changed", "2026-11-20T16:00:00Z",
                  {"current": "URGENT", "previous": "HIGH"}, organization_id="360001",
                  tags=["emea", "sev_crisis"])
    out: list[TicketEvent] = []
    assert decode_webhook(raised, zendesk_settings(), out) == "ignored priority_changed"
    tagged = body("tags_changed", "2026-11-20T16:05:00Z",
                  {"tags_added": ["sev_crisis"], "tags_removed": []}, organization_id="360001")
    assert [(e.event, e.severity, e.time_ms) for e in decode(tagged)] == [
        ("severity", "Crisis", utc("2026-11-20T16:05:00Z"))]
